import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform, type TestUser } from '../support/platform.js';
import { buildWorld, joinA, type World } from '../support/world.js';
import { memberRow, Q, storeIntervals } from './support/stored.js';

/**
 * A member takes part in the sharing from `activeFrom` (approval, or a date a manager sets)
 * until `leftAt`: outside that period it neither receives nor gives, and moving the start
 * re-splits the quarter hours concerned. Community A splits dynamically; memberA exports
 * 1000 Wh, memberA2 imports 400 Wh, the newcomer C imports 600 Wh in the same quarter hour.
 */
describe.each(platformStoreKinds)('membership periods in the sharing on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let c: TestUser;
  let memberIdC: string;
  let pointC: string;
  const T = Math.floor((Date.now() - 3 * 3_600_000) / Q) * Q;
  const settle = () => tp.platform.sharing.flush();
  const patch = (memberId: string, token: string, body: unknown) => tp.call('PATCH', `/api/v1/members/${memberId}`, { token, body });
  const store = async (pointId: string, start: number, importWh: number, exportWh: number) =>
    storeIntervals(tp.platform.db, w.communityA, pointId, { [start]: { importWh, exportWh } });

  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
    ({ user: c, memberId: memberIdC, pointId: pointC } = await joinA(tp, w, 'newcomer'));
    const approved = (await tp.call('GET', `/api/v1/members/${memberIdC}`, { token: w.managerA.token })).body;
    // Approval starts the member's part now, not in the past.
    expect(Math.abs(Date.parse(approved.activeFrom) - Date.now())).toBeLessThan(60_000);
    expect(approved.leftAt).toBeNull();
    await store(w.meteringPointA, T, 0, 1000);
    await store(w.meteringPointA2, T, 400, 0);
    await store(pointC, T, 600, 0);
    await settle();
  });
  afterAll(() => tp?.close());

  it('leaves a member out of quarter hours before its part began', async () => {
    expect(await memberRow(tp.platform.db, memberIdC, T)).toBeUndefined();
    expect(await memberRow(tp.platform.db, w.memberIdA2, T)).toMatchObject({ consumption: 400, fromCommunity: 400, fromGrid: 0 });
    expect(await memberRow(tp.platform.db, w.memberIdA, T)).toMatchObject({ production: 1000, toCommunity: 400, toGrid: 600 });
  });

  it('refuses a bad start and changes nothing', async () => {
    const before = (await tp.call('GET', `/api/v1/members/${memberIdC}`, { token: w.managerA.token })).body.activeFrom;
    expect((await patch(memberIdC, c.token, { activeFrom: new Date(T).toISOString() })).status).toBe(403);
    const unaligned = await patch(memberIdC, w.managerA.token, { activeFrom: new Date(T + 60_000).toISOString() });
    expect(unaligned.status).toBe(400);
    expect(unaligned.body.message).toMatch(/quarter hour/);
    expect((await patch(memberIdC, w.managerA.token, { activeFrom: 'yesterday' })).status).toBe(400);
    expect((await patch(memberIdC, w.managerB.token, { activeFrom: new Date(T).toISOString() })).status).toBe(404);
    const pending = await tp.call('POST', `/api/v1/communities/${w.communityA}/join-requests`, { token: w.outsider.token, body: {} });
    expect((await patch(pending.body.id, w.managerA.token, { activeFrom: new Date(T).toISOString() })).status).toBe(409);
    expect((await tp.call('GET', `/api/v1/members/${memberIdC}`, { token: w.managerA.token })).body.activeFrom).toBe(before);
    await settle();
    expect(await memberRow(tp.platform.db, memberIdC, T)).toBeUndefined();
  });

  it('re-splits the quarter hours concerned when a manager dates the start back, and again when it moves later', async () => {
    const back = await patch(memberIdC, w.managerA.token, { activeFrom: new Date(T).toISOString() });
    expect(back.status).toBe(200);
    expect(back.body.activeFrom).toBe(new Date(T).toISOString());
    await settle();
    // Supply 1000 Wh covers demand 400 + 600.
    expect(await memberRow(tp.platform.db, memberIdC, T)).toMatchObject({ consumption: 600, fromCommunity: 600, fromGrid: 0 });
    expect(await memberRow(tp.platform.db, w.memberIdA2, T)).toMatchObject({ fromCommunity: 400 });
    expect(await memberRow(tp.platform.db, w.memberIdA, T)).toMatchObject({ toCommunity: 1000, toGrid: 0 });

    expect((await patch(memberIdC, w.managerA.token, { activeFrom: new Date(T + Q).toISOString() })).status).toBe(200);
    await settle();
    expect(await memberRow(tp.platform.db, memberIdC, T)).toBeUndefined();
    expect(await memberRow(tp.platform.db, w.memberIdA, T)).toMatchObject({ toCommunity: 400, toGrid: 600 });
  });

  it('keeps a member who left in the quarter hours before it left, and out of the later ones', async () => {
    expect((await patch(memberIdC, w.managerA.token, { activeFrom: new Date(T).toISOString() })).status).toBe(200);
    const left = await tp.call('POST', `/api/v1/members/${memberIdC}/leave`, { token: c.token });
    expect(left.status).toBe(200);
    expect(left.body.state).toBe('left');
    const leftAt = Date.parse(left.body.leftAt);
    expect(Math.abs(leftAt - Date.now())).toBeLessThan(60_000);
    // A start after leaving makes no period.
    const after = await patch(memberIdC, w.managerA.token, { activeFrom: new Date(Math.ceil(leftAt / Q) * Q).toISOString() });
    expect(after.status).toBe(400);

    // Late data before leaving is shared with C; data after leaving is not.
    const later = Math.ceil(leftAt / Q) * Q + Q;
    await store(w.meteringPointA2, T, 500, 0);
    await store(w.meteringPointA, later, 0, 1000);
    await store(w.meteringPointA2, later, 400, 0);
    await store(pointC, later, 600, 0);
    await settle();
    // Dynamic: 1000 Wh over 500 + 600 Wh: 454.5… and 545.4…, the odd Wh to the larger remainder.
    expect(await memberRow(tp.platform.db, memberIdC, T)).toMatchObject({ consumption: 600, fromCommunity: 545, fromGrid: 55 });
    expect(await memberRow(tp.platform.db, w.memberIdA2, T)).toMatchObject({ consumption: 500, fromCommunity: 455, fromGrid: 45 });
    expect(await memberRow(tp.platform.db, memberIdC, later)).toBeUndefined();
    expect(await memberRow(tp.platform.db, w.memberIdA2, later)).toMatchObject({ fromCommunity: 400 });
    expect(await memberRow(tp.platform.db, w.memberIdA, later)).toMatchObject({ toCommunity: 400, toGrid: 600 });
  });
});
