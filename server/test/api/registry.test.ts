import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { signUp, startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { buildWorld, communityBody, type World } from '../support/world.js';
import { addSite, bindNewDevice } from '../support/sites.js';
import { sasFor } from '../support/devices.js';

const QUARTER = 15 * 60_000;

describe.each(platformStoreKinds)('registry and discovery on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
  });
  afterAll(() => tp?.close());

  it('creates a community with its creator as the only manager', async () => {
    const created = await tp.call('POST', '/api/v1/communities', {
      token: w.outsider.token,
      body: communityBody('Riverside', { currency: 'CHF', country: 'CH', allocationRule: 'static-redistributed' }),
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Riverside', currency: 'CHF', allocationRule: 'static-redistributed', isPublic: true });
    const members = await tp.call('GET', `/api/v1/communities/${created.body.id}/members`, { token: w.outsider.token });
    expect(members.body).toHaveLength(1);
    expect(members.body[0]).toMatchObject({ role: 'manager', state: 'active' });
  });

  it('runs the join flow: request, list pending, approve or reject, re-request after rejection', async () => {
    const joiner = await signUp(tp, 'joiner');
    const request = await tp.call('POST', `/api/v1/communities/${w.communityA}/join-requests`, { token: joiner.token, body: { message: 'We live at no. 7' } });
    expect(request.body).toMatchObject({ state: 'requested', joinMessage: 'We live at no. 7' });
    // Pending members see nothing of the community yet.
    expect((await tp.call('GET', `/api/v1/communities/${w.communityA}/tariffs`, { token: joiner.token })).status).toBe(404);

    const pending = await tp.call('GET', `/api/v1/communities/${w.communityA}/members?state=requested`, { token: w.managerA.token });
    expect(pending.body.map((m: { id: string }) => m.id)).toContain(request.body.id);

    const rejected = await tp.call('POST', `/api/v1/members/${request.body.id}/reject`, { token: w.managerA.token });
    expect(rejected.body.state).toBe('rejected');
    expect((await tp.call('POST', `/api/v1/members/${request.body.id}/approve`, { token: w.managerA.token })).status).toBe(409);

    const again = await tp.call('POST', `/api/v1/communities/${w.communityA}/join-requests`, { token: joiner.token, body: {} });
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(request.body.id);
    const approved = await tp.call('POST', `/api/v1/members/${request.body.id}/approve`, { token: w.managerA.token });
    expect(approved.body.state).toBe('active');
    expect((await tp.call('GET', `/api/v1/communities/${w.communityA}/tariffs`, { token: joiner.token })).status).toBe(200);

    const left = await tp.call('POST', `/api/v1/members/${request.body.id}/leave`, { token: joiner.token });
    expect(left.body.state).toBe('left');
    expect((await tp.call('GET', `/api/v1/communities/${w.communityA}/tariffs`, { token: joiner.token })).status).toBe(404);
  });

  it('cannot join a private community by request', async () => {
    const response = await tp.call('POST', `/api/v1/communities/${w.communityB}/join-requests`, { token: w.outsider.token, body: {} });
    expect(response.status).toBe(404);
  });

  it('keeps at least one manager', async () => {
    const members = await tp.call('GET', `/api/v1/communities/${w.communityB}/members?state=active`, { token: w.managerB.token });
    const manager = members.body.find((m: { role: string }) => m.role === 'manager');
    expect((await tp.call('PATCH', `/api/v1/members/${manager.id}`, { token: w.managerB.token, body: { role: 'member' } })).status).toBe(409);
    expect((await tp.call('POST', `/api/v1/members/${manager.id}/leave`, { token: w.managerB.token })).status).toBe(409);
  });

  it('a member cannot make themselves manager', async () => {
    const response = await tp.call('PATCH', `/api/v1/members/${w.memberIdA2}`, { token: w.memberA2.token, body: { role: 'manager' } });
    expect(response.status).toBe(403);
  });

  it('refuses a second metering point with the same grid connection id in one community', async () => {
    const body = { name: 'Twin', gridConnectionId: 'AT0010000000000000000000000999999', role: 'consumer' };
    expect((await tp.call('POST', `/api/v1/communities/${w.communityA}/metering-points`, { token: w.memberA.token, body })).status).toBe(201);
    const twin = await tp.call('POST', `/api/v1/communities/${w.communityA}/metering-points`, { token: w.memberA2.token, body });
    expect(twin.status).toBe(409);
  });

  it('a member removes a site entered by mistake; a site with recorded energy stays, whoever asks', async () => {
    const mistake = await addSite(tp, w.communityA, w.memberA2.token);
    expect((await tp.call('DELETE', `/api/v1/metering-points/${mistake}`, { token: w.memberA.token })).status).toBe(404);
    expect((await tp.call('DELETE', `/api/v1/metering-points/${mistake}`, { token: w.memberA2.token })).status).toBe(204);
    expect((await tp.call('GET', `/api/v1/metering-points/${mistake}`, { token: w.memberA2.token })).status).toBe(404);

    const home = await addSite(tp, w.communityA, w.memberA2.token);
    const reader = await bindNewDevice(tp, w.communityA, w.managerA.token, home);
    const start = Math.floor(Date.now() / QUARTER) * QUARTER - 4 * QUARTER;
    const readings = [0, 1, 2, 3, 4].map((i) => ({ ts: new Date(start + i * QUARTER).toISOString(), quantity: 'energy.import', value: 1_000_000 + 250 * i, unit: 'Wh' }));
    expect((await tp.call('POST', `/api/v1/devices/${reader.deviceId}/readings`, { headers: { authorization: sasFor(reader) }, body: { readings } })).status).toBe(200);
    await tp.platform.intervals.flush();
    const intervals = () => tp.call('GET', `/api/v1/metering-points/${home}/intervals?from=${new Date(start).toISOString()}&to=${new Date(start + 4 * QUARTER).toISOString()}`, { token: w.managerA.token });
    expect((await intervals()).body.map((i: { importWh: number }) => i.importWh)).toEqual([250, 250, 250, 250]);
    for (const token of [w.memberA2.token, w.managerA.token]) {
      const refused = await tp.call('DELETE', `/api/v1/metering-points/${home}`, { token });
      expect(refused.status).toBe(409);
      expect(refused.body.message).toMatch(/energy recorded since .*leaves the community/);
    }
    expect((await tp.call('GET', `/api/v1/metering-points/${home}`, { token: w.memberA2.token })).status).toBe(200);
    expect((await intervals()).body).toHaveLength(4);
  });

  it('binds devices only to metering points of the same community', async () => {
    const foreign = await tp.call('POST', `/api/v1/communities/${w.communityB}/metering-points`, {
      token: w.memberB.token, body: { name: 'B home', gridConnectionId: unique('ATB'), role: 'consumer' },
    });
    const response = await tp.call('POST', `/api/v1/communities/${w.communityA}/devices`, {
      token: w.managerA.token, body: { kind: 'meter-reader', name: 'x', meteringPointId: foreign.body.id },
    });
    expect(response.status).toBe(404);
    const disabled = await tp.call('PATCH', `/api/v1/devices/${w.deviceA}`, { token: w.managerA.token, body: { status: 'disabled' } });
    expect(disabled.body.status).toBe('disabled');
  });

  it('stores tariffs as exact decimals with a time-of-use table', async () => {
    const created = await tp.call('POST', `/api/v1/communities/${w.communityA}/tariffs`, {
      token: w.managerA.token,
      body: {
        name: 'ToU', gridPrice: '0.123456', communityPrice: '0.1', feedInPrice: '0.0815', validFrom: '2027-01-01',
        timeOfUse: [{ days: [1, 2, 3, 4, 5], from: '17:00', to: '20:00', gridPrice: '0.42' }],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ gridPrice: '0.123456', communityPrice: '0.1', feedInPrice: '0.0815', gridFeeReduction: '0' });
    expect(created.body.timeOfUse[0]).toEqual({ days: [1, 2, 3, 4, 5], from: '17:00', to: '20:00', gridPrice: '0.42' });
    const sameDay = await tp.call('POST', `/api/v1/communities/${w.communityA}/tariffs`, {
      token: w.managerA.token, body: { name: 'x', gridPrice: '1', communityPrice: '1', feedInPrice: '1', validFrom: '2027-01-01' },
    });
    expect(sameDay.status).toBe(409);
    const backwards = await tp.call('POST', `/api/v1/communities/${w.communityA}/tariffs`, {
      token: w.managerA.token,
      body: { name: 'x', gridPrice: '1', communityPrice: '1', feedInPrice: '1', validFrom: '2028-01-01', timeOfUse: [{ days: [1], from: '20:00', to: '17:00', gridPrice: '1' }] },
    });
    expect(backwards.status).toBe(400);
    expect(backwards.body.field).toBe('body/timeOfUse/0');
  });

  describe('discovery', () => {
    let near: string;
    let far: string;
    beforeAll(async () => {
      const manager = await signUp(tp, 'discoverer');
      const make = async (name: string, extra: Record<string, unknown>) =>
        (await tp.call('POST', '/api/v1/communities', { token: manager.token, body: communityBody(name, extra) })).body.id as string;
      near = await make('Graz Sonnenhof', { postcode: '8010', gridArea: 'AT-STMK', location: { latitude: 47.0707, longitude: 15.4395 } });
      far = await make('Linz Donaustrom', { postcode: '4020', gridArea: 'AT-OOE', location: { latitude: 48.3069, longitude: 14.2858 } });
      await tp.call('POST', `/api/v1/communities/${near}/metering-points`, {
        token: manager.token, body: { name: 'School', gridConnectionId: unique('ATG'), role: 'producer', pvCapacityW: 60_000, batteryCapacityWh: 20_000 },
      });
      // Far's manager holds only the community battery: neither a member taking part nor a producer.
      await tp.call('POST', `/api/v1/communities/${far}/metering-points`, {
        token: manager.token, body: { name: 'Battery', gridConnectionId: unique('ATB'), role: 'prosumer', batteryCapacityWh: 50_000, communityBattery: true },
      });
      await tp.call('POST', `/api/v1/communities/${near}/tariffs`, {
        token: manager.token, body: { name: 'T', gridPrice: '0.31', communityPrice: '0.12', feedInPrice: '0.06', validFrom: '2020-01-01' },
      });
    });

    it('finds communities by postcode prefix and grid area', async () => {
      const byPostcode = await tp.call('GET', '/api/v1/communities?postcode=80');
      expect(byPostcode.body.map((c: { id: string }) => c.id)).toEqual([near]);
      const byArea = await tp.call('GET', '/api/v1/communities?gridArea=at-ooe');
      expect(byArea.body.map((c: { id: string }) => c.id)).toEqual([far]);
      const byName = await tp.call('GET', '/api/v1/communities?q=donau');
      expect(byName.body.map((c: { id: string }) => c.id)).toEqual([far]);
    });

    it('orders by distance from a point and filters by radius', async () => {
      // Graz main square: Graz is about 0 km away, Linz about 175 km.
      const response = await tp.call('GET', '/api/v1/communities?lat=47.0707&lon=15.4395&radiusKm=250');
      const found = response.body.filter((c: { id: string }) => c.id === near || c.id === far);
      expect(found.map((c: { id: string }) => c.id)).toEqual([near, far]);
      expect(found[0].distanceKm).toBeLessThan(0.01);
      expect(found[1].distanceKm).toBeGreaterThan(160);
      expect(found[1].distanceKm).toBeLessThan(190);
      const distances = response.body.map((c: { distanceKm: number }) => c.distanceKm);
      expect(distances).toEqual([...distances].sort((a, b) => a - b));
      const close = await tp.call('GET', '/api/v1/communities?lat=47.0707&lon=15.4395&radiusKm=50');
      expect(close.body.map((c: { id: string }) => c.id)).toEqual([near]);
      expect((await tp.call('GET', '/api/v1/communities?lat=47&radiusKm=5')).status).toBe(400);
    });

    it('compares communities side by side', async () => {
      const response = await tp.call('GET', `/api/v1/communities/compare?ids=${near}&ids=${far}`);
      expect(response.status).toBe(200);
      expect(response.body[0]).toMatchObject({
        memberCount: 1, producerCount: 1, productionCapacityW: 60_000, batteryCapacityWh: 20_000,
        prices: { grid: '0.31', community: '0.12', feedIn: '0.06' },
      });
      expect(response.body[1]).toMatchObject({ memberCount: 0, producerCount: 0, productionCapacityW: 0, batteryCapacityWh: 50_000, prices: null });
      expect((await tp.call('GET', `/api/v1/communities/compare?ids=${w.communityB}`)).status).toBe(404);
    });
  });
});
