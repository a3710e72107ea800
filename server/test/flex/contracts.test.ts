import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';

/**
 * Flexibility contracts with a DSO over the API: managers draft,
 * change, activate and end them; members opt their own controllable devices in and out; managers
 * see how many devices take part and the power allowed, not whose.
 */

const CP = ['ean.cp-1', 'ean.cp-2'];
const KEY = Buffer.alloc(32, 7).toString('base64');

describe.each(platformStoreKinds)('flexibility contracts on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let dsoA: string;
  let dsoB: string;
  let croA: string;

  const as = (token: string) => (method: string, url: string, body?: unknown) => tp.call(method, url, { token, body });
  const terms = (changes: Record<string, unknown> = {}) => ({
    participantId: dsoA, congestionPoints: ['ean.cp-1'], serviceType: 'congestion-management', validFrom: '2027-01-01', validTo: '2027-12-31',
    windows: [{ weekdays: [1, 2, 3, 4, 5], from: '11:00', to: '15:00' }], capacityRemuneration: '2.50', volumeRemuneration: '0.12', penaltyRate: '0.3',
    ...changes,
  });
  const participant = async (token: string, communityId: string, role = 'DSO') => {
    const response = await as(token)('POST', `/api/v1/communities/${communityId}/flex/participants`, {
      domain: `${unique('dso')}.example.org`, role, endpoint: 'https://dso.example.org/shapeshifter/api/v3/message', publicKeys: [KEY], congestionPoints: CP,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body.id as string;
  };
  const contractsOfA = async () => (await as(w.managerA.token)('GET', `/api/v1/communities/${w.communityA}/flex/contracts`)).body as { id: string }[];
  const draft = async (changes: Record<string, unknown> = {}) => {
    const response = await as(w.managerA.token)('POST', `/api/v1/communities/${w.communityA}/flex/contracts`, terms(changes));
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as { id: string; state: string };
  };
  const device = async (kindOf: string, meteringPointId: string) => {
    const response = await as(w.managerA.token)('POST', `/api/v1/communities/${w.communityA}/devices`, { kind: kindOf, name: unique('Device '), meteringPointId, role: 'sub-load' });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body.id as string;
  };

  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
    expect((await as(w.managerA.token)('PUT', `/api/v1/communities/${w.communityA}/flex/identity`, { domain: `a-${w.communityA}.example.org`, timeZone: 'Europe/Vienna' })).status).toBe(200);
    dsoA = await participant(w.managerA.token, w.communityA);
    croA = await participant(w.managerA.token, w.communityA, 'CRO');
    dsoB = await participant(w.managerB.token, w.communityB);
  }, 120_000);
  afterAll(() => tp?.close());

  it('drafts a contract with exact prices in the community\'s currency and the identity\'s time zone', async () => {
    const before = (await contractsOfA()).length;
    const response = await as(w.managerA.token)('POST', `/api/v1/communities/${w.communityA}/flex/contracts`,
      terms({ congestionPoints: ['ean.cp-2', 'ean.cp-1'], capacityRemuneration: '2.500000', volumeRemuneration: '0.123456', serviceType: 'capacity-management' }));
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect(response.body).toMatchObject({
      communityId: w.communityA, participantId: dsoA, congestionPoints: ['ean.cp-2', 'ean.cp-1'], serviceType: 'capacity-management', validFrom: '2027-01-01',
      validTo: '2027-12-31', timeZone: 'Europe/Vienna', currency: 'EUR', capacityRemuneration: '2.5', volumeRemuneration: '0.123456', penaltyRate: '0.3',
      communityFeePercent: '0', state: 'draft', activatedAt: null, endedAt: null, participation: { devices: 0, devicesWithoutLimit: 0, allowedPowerW: 0 },
      windows: [{ weekdays: [1, 2, 3, 4, 5], from: '11:00', to: '15:00' }],
    });
    expect(await contractsOfA()).toHaveLength(before + 1);
    expect((await as(w.managerA.token)('GET', `/api/v1/flex/contracts/${response.body.id}`)).body).toEqual(response.body);
  });

  it('refuses bad terms naming the field, and stores nothing', async () => {
    const before = await contractsOfA();
    const cases: [Record<string, unknown>, string][] = [
      [{ participantId: crypto.randomUUID() }, 'body/participantId'],
      [{ participantId: dsoB }, 'body/participantId'],
      [{ participantId: croA }, 'body/participantId'],
      [{ congestionPoints: ['ean.cp-9'] }, 'body/congestionPoints'],
      [{ windows: [{ weekdays: [1, 2], from: '08:00', to: '12:00' }, { weekdays: [2], from: '11:00', to: '13:00' }] }, 'body/windows/1'],
      [{ windows: [{ weekdays: [1], from: '12:00', to: '08:00' }] }, 'body/windows/0/to'],
      [{ validFrom: '2027-06-01', validTo: '2027-05-31' }, 'body/validTo'],
      [{ validFrom: '2027-02-29' }, 'body/validFrom'],
      [{ capacityRemuneration: '-2.50' }, 'body/capacityRemuneration'],
      [{ volumeRemuneration: 'NaN' }, 'body/volumeRemuneration'],
      [{ penaltyRate: '0.0000001' }, 'body/penaltyRate'],
      [{ communityFeePercent: '100.5' }, 'body/communityFeePercent'],
      [{ communityFeePercent: '-5' }, 'body/communityFeePercent'],
      [{ communityFeePercent: '12.345' }, 'body/communityFeePercent'],
    ];
    for (const [changes, field] of cases) {
      const response = await as(w.managerA.token)('POST', `/api/v1/communities/${w.communityA}/flex/contracts`, terms(changes));
      expect(response.status, JSON.stringify(changes)).toBe(400);
      expect(response.body.field, JSON.stringify(response.body)).toBe(field);
    }
    for (const body of [terms({ serviceType: 'balancing' }), terms({ capacityRemuneration: 2.5 }), terms({ communityFeePercent: 10 }), terms({ extra: 1 }), { ...terms(), windows: undefined }]) {
      expect((await as(w.managerA.token)('POST', `/api/v1/communities/${w.communityA}/flex/contracts`, body)).status).toBe(400);
    }
    expect(await contractsOfA()).toEqual(before);
  });

  it('needs the community\'s UFTP identity first (its zone is the windows\')', async () => {
    const response = await as(w.managerB.token)('POST', `/api/v1/communities/${w.communityB}/flex/contracts`, terms({ participantId: dsoB }));
    expect(response.status).toBe(409);
    expect((await as(w.managerB.token)('GET', `/api/v1/communities/${w.communityB}/flex/contracts`)).body).toEqual([]);
  });

  it('is for managers: members 403, other communities 404', async () => {
    const { id } = await draft();
    for (const token of [w.memberA.token, w.memberA2.token]) {
      expect((await as(token)('GET', `/api/v1/communities/${w.communityA}/flex/contracts`)).status).toBe(403);
      expect((await as(token)('POST', `/api/v1/communities/${w.communityA}/flex/contracts`, terms())).status).toBe(403);
      expect((await as(token)('GET', `/api/v1/flex/contracts/${id}`)).status).toBe(403);
      expect((await as(token)('POST', `/api/v1/flex/contracts/${id}/activate`)).status).toBe(403);
    }
    for (const token of [w.memberB.token, w.managerB.token, w.outsider.token]) {
      expect((await as(token)('GET', `/api/v1/communities/${w.communityA}/flex/contracts`)).status).toBe(404);
      expect((await as(token)('GET', `/api/v1/flex/contracts/${id}`)).status).toBe(404);
      expect((await as(token)('PUT', `/api/v1/flex/contracts/${id}`, terms())).status).toBe(404);
      expect((await as(token)('POST', `/api/v1/flex/contracts/${id}/end`)).status).toBe(404);
    }
    expect((await as(w.managerA.token)('GET', `/api/v1/flex/contracts/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await as(w.managerA.token)('GET', `/api/v1/flex/contracts/${id}`)).body.state).toBe('draft');
  });

  it('changes a draft, activates it, ends it; nothing else', async () => {
    const { id } = await draft();
    const manager = as(w.managerA.token);
    const updated = await manager('PUT', `/api/v1/flex/contracts/${id}`, terms({ congestionPoints: CP, penaltyRate: '1.25', communityFeePercent: '12.50' }));
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body).toMatchObject({ congestionPoints: CP, penaltyRate: '1.25', communityFeePercent: '12.5', state: 'draft' });
    expect((await manager('PUT', `/api/v1/flex/contracts/${id}`, terms({ penaltyRate: '-1', communityFeePercent: '12.5' }))).status).toBe(400);
    expect((await manager('PUT', `/api/v1/flex/contracts/${id}`, terms({ penaltyRate: '1.25', communityFeePercent: '101' }))).status).toBe(400);
    expect((await manager('GET', `/api/v1/flex/contracts/${id}`)).body).toMatchObject({ penaltyRate: '1.25', communityFeePercent: '12.5' });

    const active = await manager('POST', `/api/v1/flex/contracts/${id}/activate`);
    expect(active.status, JSON.stringify(active.body)).toBe(200);
    expect(active.body.state).toBe('active');
    expect(active.body.activatedAt).not.toBeNull();
    expect((await manager('POST', `/api/v1/flex/contracts/${id}/activate`)).status).toBe(409);
    expect((await manager('PUT', `/api/v1/flex/contracts/${id}`, terms({ penaltyRate: '9' }))).status).toBe(409);
    expect((await manager('GET', `/api/v1/flex/contracts/${id}`)).body).toMatchObject({ state: 'active', penaltyRate: '1.25', communityFeePercent: '12.5' });

    const ended = await manager('POST', `/api/v1/flex/contracts/${id}/end`);
    expect(ended.status).toBe(200);
    expect(ended.body.state).toBe('ended');
    expect(ended.body.endedAt).not.toBeNull();
    expect((await manager('POST', `/api/v1/flex/contracts/${id}/end`)).status).toBe(409);
    expect((await manager('POST', `/api/v1/flex/contracts/${id}/activate`)).status).toBe(409);
  });

  it('checks the terms again on activation: the address book may have changed', async () => {
    const cp = `ean.${unique('cp')}`;
    const manager = as(w.managerA.token);
    const entry = { domain: `${unique('dso')}.example.org`, role: 'DSO', endpoint: 'https://dso.example.org/shapeshifter/api/v3/message', publicKeys: [KEY], congestionPoints: [cp] };
    const dso = (await manager('POST', `/api/v1/communities/${w.communityA}/flex/participants`, entry)).body.id as string;
    const { id } = await draft({ participantId: dso, congestionPoints: [cp] });
    expect((await manager('PUT', `/api/v1/flex/participants/${dso}`, { ...entry, congestionPoints: [] })).status).toBe(200);
    const refused = await manager('POST', `/api/v1/flex/contracts/${id}/activate`);
    expect(refused.status).toBe(400);
    expect(refused.body.field).toBe('body/congestionPoints');
    expect((await manager('GET', `/api/v1/flex/contracts/${id}`)).body.state).toBe('draft');
    // A participant a contract is made with stays in the book.
    expect((await manager('DELETE', `/api/v1/flex/participants/${dso}`)).status).toBe(409);
    expect((await manager('GET', `/api/v1/communities/${w.communityA}/flex/participants`)).body.map((p: { id: string }) => p.id)).toContain(dso);
  });

  it('lets members opt their own controllable devices in and out; managers see counts only', async () => {
    const { id } = await draft();
    expect((await as(w.managerA.token)('POST', `/api/v1/flex/contracts/${id}/activate`)).status).toBe(200);
    const plugA = await device('smart-plug', w.meteringPointA);
    const batteryA2 = await device('battery', w.meteringPointA2);
    const memberA = as(w.memberA.token);
    const memberA2 = as(w.memberA2.token);
    const optInUrl = (deviceId: string) => `/api/v1/flex/contracts/${id}/devices/${deviceId}`;
    const participation = async () => (await as(w.managerA.token)('GET', `/api/v1/flex/contracts/${id}`)).body.participation;

    const mine = await memberA('GET', `/api/v1/communities/${w.communityA}/flex/my-devices`);
    expect(mine.status).toBe(200);
    expect(mine.body.devices.map((d: { id: string }) => d.id)).toEqual([plugA]);
    expect(mine.body.contracts.map((c: { id: string }) => c.id)).toContain(id);
    expect(JSON.stringify(mine.body.contracts)).not.toContain('Remuneration');

    const opted = await memberA('PUT', optInUrl(plugA), { maxPowerW: 2000 });
    expect(opted.status, JSON.stringify(opted.body)).toBe(200);
    expect(opted.body).toMatchObject({ contractId: id, deviceId: plugA, maxPowerW: 2000 });
    expect((await memberA2('PUT', optInUrl(batteryA2), {})).status).toBe(200);
    expect(await participation()).toEqual({ devices: 2, devicesWithoutLimit: 1, allowedPowerW: 2000 });

    // Someone else's device, a device that cannot be controlled, bad limits: refused, nothing changes.
    expect((await memberA('PUT', optInUrl(batteryA2), { maxPowerW: 1 })).status).toBe(404);
    expect((await memberA2('DELETE', optInUrl(plugA))).status).toBe(404);
    expect((await as(w.managerA.token)('PUT', optInUrl(plugA), { maxPowerW: 1 })).status).toBe(404);
    expect((await as(w.memberB.token)('PUT', optInUrl(plugA), { maxPowerW: 1 })).status).toBe(404);
    expect((await tp.call('PUT', optInUrl(plugA), { token: tp.admin.token, body: { maxPowerW: 1 } })).status).toBe(404);
    expect((await memberA('PUT', optInUrl('gs-no-such-device'), {})).status).toBe(404);
    const reader = await memberA('PUT', optInUrl(w.deviceA), {});
    expect(reader.status).toBe(400);
    expect(reader.body.field).toBe('params/deviceId');
    for (const maxPowerW of [0, -5, 1.5, 'NaN', 20_000_000]) expect((await memberA('PUT', optInUrl(plugA), { maxPowerW })).status).toBe(400);
    expect((await memberA('PUT', `/api/v1/flex/contracts/${crypto.randomUUID()}/devices/${plugA}`, {})).status).toBe(404);
    expect(await participation()).toEqual({ devices: 2, devicesWithoutLimit: 1, allowedPowerW: 2000 });

    // The manager's view names no device and no member.
    const seen = JSON.stringify((await as(w.managerA.token)('GET', `/api/v1/communities/${w.communityA}/flex/contracts`)).body);
    for (const secret of [plugA, batteryA2, w.memberIdA, w.memberIdA2]) expect(seen).not.toContain(secret);
    // Managers have no devices of their own here; other communities' members learn nothing.
    expect((await as(w.managerA.token)('GET', `/api/v1/communities/${w.communityA}/flex/my-devices`)).body.devices).toEqual([]);
    expect((await as(w.memberB.token)('GET', `/api/v1/communities/${w.communityA}/flex/my-devices`)).status).toBe(404);

    // Changing the limit keeps one opt-in; opting out removes it.
    expect((await memberA('PUT', optInUrl(plugA), { maxPowerW: 3000 })).status).toBe(200);
    expect(await participation()).toEqual({ devices: 2, devicesWithoutLimit: 1, allowedPowerW: 3000 });
    expect((await memberA('GET', `/api/v1/communities/${w.communityA}/flex/my-devices`)).body.devices[0].optIns).toMatchObject([{ contractId: id, maxPowerW: 3000 }]);
    expect((await memberA('DELETE', optInUrl(plugA))).status).toBe(204);
    expect(await participation()).toEqual({ devices: 1, devicesWithoutLimit: 1, allowedPowerW: 0 });
    expect((await memberA('GET', `/api/v1/communities/${w.communityA}/flex/my-devices`)).body.devices[0].optIns).toEqual([]);

    // An ended contract takes no one new, and is no longer offered.
    expect((await as(w.managerA.token)('POST', `/api/v1/flex/contracts/${id}/end`)).status).toBe(200);
    expect((await memberA('PUT', optInUrl(plugA), {})).status).toBe(409);
    expect((await memberA('GET', `/api/v1/communities/${w.communityA}/flex/my-devices`)).body.contracts.map((c: { id: string }) => c.id)).not.toContain(id);
    expect(await participation()).toEqual({ devices: 1, devicesWithoutLimit: 1, allowedPowerW: 0 });
  });
});
