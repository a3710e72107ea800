import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, PARTICIPATION_START, type World } from '../support/world.js';
import { deviceCredentials, sasFor } from '../support/devices.js';

const HOUR = 3_600_000;
const viennaHour = (ms: number) => Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Vienna', hour: '2-digit', hourCycle: 'h23' }).format(ms));
/** Moves an hour back until it and the next one end by local midnight. */
function withinOneViennaDay(hourStart: number): number {
  let start = hourStart;
  while (viennaHour(start) > 21) start -= HOUR;
  return start;
}

/**
 * Readings in over HTTP, energy by source out over the API. memberA's site exports 30 Wh a
 * minute (450 Wh per quarter hour); memberA2's imports by a register whose late readings show
 * 20 Wh/min for 30 min, 40 Wh/min for 30 min, nothing for 30 min, then 20 Wh/min again.
 */
describe.each(platformStoreKinds)('energy by source through the API on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let send: (deviceId: string, readings: { ts: number; quantity: string; value: number }[]) => Promise<void>;
  let deviceA2: string;
  // Two hours that lie within one local (Vienna) day, whatever the hour the suite runs.
  const base = withinOneViennaDay(Math.floor((Date.now() - 4 * HOUR) / HOUR) * HOUR);
  const rateA2 = (m: number) => (m < 30 ? 20 : m < 60 ? 40 : m < 90 ? 0 : 20);
  const registerA2 = (m: number) => { let v = 2_000_000; for (let i = 0; i < m; i++) v += rateA2(i); return v; };
  const a2At = (minutes: number[]) => minutes.map((m) => ({ ts: base + m * 60_000, quantity: 'energy.import', value: registerA2(m) }));
  const minutes = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  const energy = async (memberId: string, token: string, query: string) =>
    tp.call('GET', `/api/v1/members/${memberId}/energy?${query}`, { token });
  const range = (from: number, to: number, resolution: string) =>
    `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&resolution=${resolution}`;
  const settle = async () => {
    await tp.platform.intervals.flush();
    await tp.platform.sharing.flush();
  };

  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
    const batch = (await tp.call('POST', `/api/v1/communities/${w.communityA}/device-batches`, { token: w.managerA.token, body: { count: 1 } })).body;
    deviceA2 = batch.deviceIds[0];
    await tp.call('PATCH', `/api/v1/devices/${deviceA2}`, { token: w.managerA.token, body: { meteringPointId: w.meteringPointA2 } });
    const credentials = new Map<string, string>();
    send = async (deviceId, readings) => {
      if (!credentials.has(deviceId)) credentials.set(deviceId, sasFor(await deviceCredentials(tp, w.managerA.token, deviceId)));
      const response = await tp.call('POST', `/api/v1/devices/${deviceId}/readings`, {
        headers: { authorization: credentials.get(deviceId)! },
        body: { readings: readings.map((r) => ({ ts: new Date(r.ts).toISOString(), quantity: r.quantity, value: r.value, unit: 'Wh' })) },
      });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
    };
    const all = minutes(0, 120);
    await send(w.provisionedA, all.flatMap((m) => [
      { ts: base + m * 60_000, quantity: 'energy.import', value: 1_000_000 },
      { ts: base + m * 60_000, quantity: 'energy.export', value: 500_000 + 30 * m },
    ]));
    // memberA2's reader sends the first half hour and the last, the middle hour comes late.
    await send(deviceA2, [...a2At(minutes(0, 30)), ...a2At(minutes(90, 120))]);
    await settle();
  });
  afterAll(() => tp?.close());

  it('gives each member energy by source per quarter hour, matching a hand computation, and recomputes after late data', async () => {
    const before = await energy(w.memberIdA2, w.memberA2.token, range(base, base + 2 * HOUR, '15m'));
    expect(before.status, JSON.stringify(before.body)).toBe(200);
    // The gap 00:30–01:30 is spread evenly (1200 Wh over an hour: 300 per quarter): dynamic gives all of it.
    expect(before.body.series.map((b: { fromCommunityWh: number }) => b.fromCommunityWh)).toEqual([300, 300, 300, 300, 300, 300, 300, 300]);
    expect(before.body.series[3].quality).toBe('estimated');

    await send(deviceA2, a2At(minutes(31, 89)));
    await settle();
    const after = await energy(w.memberIdA2, w.memberA2.token, range(base, base + 2 * HOUR, '15m'));
    // Now 600, 600, 0, 0 in the middle hour: capped by the community's 450 Wh per quarter.
    expect(after.body.series.map((b: { consumptionWh: number }) => b.consumptionWh)).toEqual([300, 300, 600, 600, 0, 0, 300, 300]);
    expect(after.body.series.map((b: { fromCommunityWh: number }) => b.fromCommunityWh)).toEqual([300, 300, 450, 450, 0, 0, 300, 300]);
    expect(after.body.series.map((b: { fromGridWh: number }) => b.fromGridWh)).toEqual([0, 0, 150, 150, 0, 0, 0, 0]);
    expect(after.body.series.every((b: { quality: string }) => b.quality === 'measured')).toBe(true);
    expect(after.body.totals).toMatchObject({ consumptionWh: 2400, fromCommunityWh: 2100, fromGridWh: 300, productionWh: 0 });

    // Duplicates (everything sent again, in reverse) change nothing.
    await send(deviceA2, a2At(minutes(0, 120)).reverse());
    await settle();
    expect((await energy(w.memberIdA2, w.memberA2.token, range(base, base + 2 * HOUR, '15m'))).body).toEqual(after.body);

    const producer = await energy(w.memberIdA, w.memberA.token, range(base, base + 2 * HOUR, '1h'));
    expect(producer.body.series.map((b: { toCommunityWh: number; toGridWh: number }) => [b.toCommunityWh, b.toGridWh])).toEqual([[1500, 300], [600, 1200]]);
    for (const b of producer.body.series) {
      expect(b.productionWh).toBe(b.selfConsumedWh + b.toCommunityWh + b.toGridWh);
      expect(b.consumptionWh).toBe(b.selfConsumedWh + b.fromCommunityWh + b.fromGridWh);
    }
    // Savings at grid 0.30, community 0.15: 2.1 kWh × 0.15 = 0.315 → 0.32 (half away from zero).
    expect(after.body.savings).toEqual({ currency: 'EUR', amount: '0.32', co2AvoidedKg: '0.000' });
  });

  it('shows the community totals and rates to members and the per-member totals only to managers', async () => {
    const q = range(base, base + 2 * HOUR, '1d');
    const asMember = await tp.call('GET', `/api/v1/communities/${w.communityA}/energy?${q}`, { token: w.memberA2.token });
    expect(asMember.status).toBe(200);
    expect(asMember.body.members).toBeUndefined();
    expect(asMember.body.totals).toMatchObject({ consumptionWh: 2400, fromCommunityWh: 2100, productionWh: 3600, toCommunityWh: 2100 });
    expect(asMember.body.totals.selfSufficiency).toBeCloseTo(2100 / 2400, 10);
    expect(asMember.body.totals.selfConsumptionRate).toBeCloseTo(2100 / 3600, 10);
    // One local (Vienna) day, from local midnight to local midnight.
    expect(asMember.body.series).toHaveLength(1);
    const dayStart = Date.parse(asMember.body.series[0].start);
    const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Vienna', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(dayStart);
    expect(local).toBe('00:00');
    const asManager = await tp.call('GET', `/api/v1/communities/${w.communityA}/energy?${q}`, { token: w.managerA.token });
    const a2 = asManager.body.members.find((m: { memberId: string }) => m.memberId === w.memberIdA2);
    expect(a2.totals).toMatchObject({ consumptionWh: 2400, fromCommunityWh: 2100 });
    // The manager runs the community without a site of their own: no (empty) row of theirs.
    const managers = (await tp.call('GET', `/api/v1/communities/${w.communityA}/members`, { token: w.managerA.token })).body
      .filter((m: { role: string }) => m.role === 'manager').map((m: { id: string }) => m.id);
    expect(managers).toHaveLength(1);
    expect(asManager.body.members.map((m: { memberId: string }) => m.memberId)).not.toContain(managers[0]);
  });

  it('refuses bad queries and what is not yours with clear errors', async () => {
    const ok = range(base, base + HOUR, '15m');
    expect((await energy(w.memberIdA2, w.memberA2.token, range(base + HOUR, base, '15m'))).status).toBe(400);
    const huge = await energy(w.memberIdA2, w.memberA2.token, range(base - 100 * 24 * HOUR, base, '15m'));
    expect(huge.status).toBe(400);
    expect(huge.body).toMatchObject({ error: 'bad_request', field: 'querystring/to' });
    expect((await energy(w.memberIdA2, w.memberA2.token, range(base - 200 * 24 * HOUR, base, '1h'))).status).toBe(200);
    expect((await energy(w.memberIdA2, w.memberA2.token, `from=yesterday&to=${new Date(base).toISOString()}&resolution=1h`)).status).toBe(400);
    expect((await energy(w.memberIdA2, w.memberA2.token, `${range(base, base + HOUR, '15m')}&resolution=2h`)).status).toBe(400);
    expect((await energy(w.memberIdA2, w.memberA2.token, range(base, base + HOUR, '5m'))).status).toBe(400);
    expect((await energy(w.memberIdA2, w.memberA2.token, `from=${new Date(base).toISOString()}&resolution=1h`)).status).toBe(400);
    expect((await energy('00000000-0000-4000-8000-000000000000', w.managerA.token, ok)).status).toBe(404);
    expect((await energy('not-a-uuid', w.managerA.token, ok)).status).toBe(400);
    expect((await energy(w.memberIdA2, w.memberA.token, ok)).status).toBe(404);
    expect((await energy(w.memberIdB, w.managerA.token, ok)).status).toBe(404);
    expect((await tp.call('GET', `/api/v1/communities/${w.communityB}/energy?${ok}`, { token: w.memberA.token })).status).toBe(404);
  });

  it('sets static shares exactly and refuses bad keys without changing anything', async () => {
    const url = `/api/v1/communities/${w.communityA}/allocation-shares`;
    const validFrom = new Date(base).toISOString();
    const put = (body: unknown) => tp.call('PUT', url, { token: w.managerA.token, body });
    const bad: [unknown, number][] = [
      [{ validFrom, shares: [{ memberId: w.memberIdA2, share: '0.6' }, { memberId: w.memberIdA, share: '0.5' }] }, 400],
      [{ validFrom, shares: [{ memberId: w.memberIdA2, share: 'NaN' }] }, 400],
      [{ validFrom, shares: [{ memberId: w.memberIdA2, share: 0.5 }] }, 400],
      [{ validFrom, shares: [{ memberId: w.memberIdA2, share: '1.5' }] }, 400],
      [{ validFrom, shares: [{ memberId: w.memberIdA2, share: '0.1234567891' }] }, 400],
      [{ validFrom, shares: [{ memberId: w.memberIdA2, share: '0.5' }, { memberId: w.memberIdA2, share: '0.1' }] }, 400],
      [{ validFrom: new Date(base + 60_000).toISOString(), shares: [{ memberId: w.memberIdA2, share: '0.5' }] }, 400],
      [{ validFrom, shares: [{ memberId: w.memberIdB, share: '0.5' }] }, 404],
      [{ validFrom, shares: [{ memberId: '00000000-0000-4000-8000-000000000000', share: '0.5' }] }, 404],
      [{ validFrom, shares: [], extra: 1 }, 400],
    ];
    for (const [body, status] of bad) {
      const response = await put(body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(response.body).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    }
    expect((await tp.call('GET', url, { token: w.managerA.token })).body).toEqual([]);
    expect((await tp.call('PUT', url, { token: w.managerA.token, rawBody: '{"shares": [', headers: { 'content-type': 'application/json' } })).status).toBe(400);

    const good = await put({ validFrom, shares: [{ memberId: w.memberIdA2, share: '0.333333333' }, { memberId: w.memberIdA, share: '0.666666667' }] });
    expect(good.status, JSON.stringify(good.body)).toBe(200);
    expect(good.body.shares).toEqual(expect.arrayContaining([{ memberId: w.memberIdA2, share: '0.333333333' }]));
    // Static key: A2 is entitled to a third of 450 per quarter = 150.
    const patched = await tp.call('PATCH', `/api/v1/communities/${w.communityA}`, { token: w.managerA.token, body: { allocationRule: 'static', allocationMode: 'compute' } });
    expect(patched.body).toMatchObject({ allocationRule: 'static', allocationMode: 'compute' });
    // The rule change applies from the start of the current month; the quarter hours before it keep theirs.
    const { markSharingDirtyFrom } = await import('../../src/sharing/service.js');
    await markSharingDirtyFrom(tp.platform.db, w.communityA, base);
    await settle();
    const response = await energy(w.memberIdA2, w.memberA2.token, range(base, base + HOUR, '15m'));
    expect(response.body.series.map((b: { fromCommunityWh: number }) => b.fromCommunityWh)).toEqual([150, 150, 150, 150]);
    await tp.call('PATCH', `/api/v1/communities/${w.communityA}`, { token: w.managerA.token, body: { allocationRule: 'dynamic' } });
    await markSharingDirtyFrom(tp.platform.db, w.communityA, base);
    await settle();
  });

  it('sets the CO2 intensity, constant and hourly, and uses it for CO2 avoided', async () => {
    const url = `/api/v1/communities/${w.communityA}/co2-intensity`;
    for (const body of [{ gramsPerKWh: -1 }, { gramsPerKWh: 'NaN' }, { gramsPerKWh: 100, hourly: [{ hour: new Date(base + 60_000).toISOString(), gramsPerKWh: 1 }] }, {}]) {
      expect((await tp.call('PUT', url, { token: w.managerA.token, body })).status).toBe(400);
    }
    expect((await tp.call('GET', url, { token: w.memberA.token })).body).toEqual({ gramsPerKWh: null, hourly: { hours: 0, from: null, to: null } });
    const put = await tp.call('PUT', url, { token: w.managerA.token, body: { gramsPerKWh: 200, hourly: [{ hour: new Date(base).toISOString(), gramsPerKWh: 400 }] } });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ gramsPerKWh: 200, hourly: { hours: 1, from: new Date(base).toISOString(), to: new Date(base).toISOString() } });
    const response = await energy(w.memberIdA2, w.memberA2.token, range(base, base + 2 * HOUR, '1h'));
    // First hour 300 + 300 + 450 + 450 Wh from the community at 400 g/kWh, second 300 + 300 Wh at
    // the constant 200 g/kWh: 0.6 + 0.12 kg.
    expect(response.body.savings.co2AvoidedKg).toBe('0.720');
  });

  it('gives a member\'s energy as a CSV file with the figures of the JSON view, to whom may see it, and refuses bad ranges', async () => {
    const csv = (memberId: string, token: string, query: string) => tp.call('GET', `/api/v1/members/${memberId}/energy.csv?${query}`, { token });
    const records = (text: string) => {
      const lines = text.split('\r\n');
      expect(lines.pop()).toBe('');
      return lines.map((line) => line.split(','));
    };
    const q = range(base, base + 2 * HOUR, '15m');
    const response = await csv(w.memberIdA2, w.memberA2.token, q);
    expect(response.status, String(response.body)).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toMatch(/^attachment; filename="energy-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}-15m\.csv"$/);
    const [header, ...rows] = records(response.body);
    expect(header).toEqual(['start', 'end', 'consumption_wh', 'self_consumed_wh', 'from_community_wh', 'from_grid_wh', 'production_wh', 'to_community_wh', 'to_grid_wh', 'quality', 'provisional']);
    // The same buckets and figures as the JSON view of the same range.
    const json = (await energy(w.memberIdA2, w.memberA2.token, q)).body;
    expect(rows).toHaveLength(json.series.length);
    rows.forEach((row, i) => {
      const b = json.series[i];
      // Local time with the community's offset, the same instant as the JSON's UTC start and end.
      expect(row[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\+0[12]:00$/);
      expect([new Date(row[0]!).toISOString(), new Date(row[1]!).toISOString()]).toEqual([b.start, b.end]);
      for (const cell of row.slice(2, 9)) expect(cell).toMatch(/^\d+$/);
      expect(row.slice(2, 9).map(Number)).toEqual([b.consumptionWh, b.selfConsumedWh, b.fromCommunityWh, b.fromGridWh, b.productionWh, b.toCommunityWh, b.toGridWh]);
      expect(row.slice(9)).toEqual([b.quality, String(b.provisional)]);
    });
    expect(rows.map((row) => Number(row[2]))).toEqual([300, 300, 600, 600, 0, 0, 300, 300]);
    expect(rows.map((row) => Number(row[4]))).toEqual([300, 300, 450, 450, 0, 0, 300, 300]);

    // Whose it is: the member and their community's manager, nobody else (not even who exists).
    expect((await csv(w.memberIdA2, w.managerA.token, q)).body).toBe(response.body);
    // The manager's download is a read of the member's data, so it is in the member's access log; the member's own is not.
    const log = (await tp.call('GET', `/api/v1/members/${w.memberIdA2}/access-log`, { token: w.memberA2.token })).body;
    expect(log.filter((e: { route: string }) => e.route === 'GET /api/v1/members/:id/energy.csv'))
      .toEqual([expect.objectContaining({ accessorKind: 'manager', accessor: w.managerA.email, category: 'energy-by-source', purpose: 'sharing' })]);
    for (const [memberId, token] of [[w.memberIdA2, w.memberA.token], [w.memberIdA2, w.managerB.token], [w.memberIdB, w.managerA.token], ['00000000-0000-4000-8000-000000000000', w.managerA.token]] as const) {
      const refused = await csv(memberId, token, q);
      expect(refused.status).toBe(404);
      expect(String(refused.headers['content-type'])).toContain('application/json');
    }
    expect((await tp.call('GET', `/api/v1/members/${w.memberIdA2}/energy.csv?${q}`)).status).toBe(401);

    // A year in local months: the months that have begun, from local midnight of 1 January, adding up to the JSON totals.
    // The year of the test's hours (just after New Year that is last year, all of whose months have begun).
    const vienna = (ms: number, part: 'year' | 'month') => Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Vienna', [part]: 'numeric' }).format(ms));
    const year = vienna(base, 'year');
    const yearQuery = range(Date.parse(`${year}-01-01T00:00:00+01:00`), Date.parse(`${year + 1}-01-01T00:00:00+01:00`), '1mo');
    const months = records((await csv(w.memberIdA2, w.memberA2.token, yearQuery)).body).slice(1);
    expect(months).toHaveLength(vienna(Date.now(), 'year') === year ? vienna(Date.now(), 'month') : 12);
    expect(months[0]![0]).toBe(`${year}-01-01T00:00:00+01:00`);
    const yearJson = (await energy(w.memberIdA2, w.memberA2.token, yearQuery)).body;
    expect(months.reduce((sum, row) => sum + Number(row[2]), 0)).toBe(yearJson.totals.consumptionWh);
    expect(yearJson.totals.consumptionWh).toBe(2400);

    // Hours that have not begun hold nothing yet: they are left out, not written as missing.
    const before = Date.now();
    const hours = records((await csv(w.memberIdA2, w.memberA2.token, range(base, before + 3 * 24 * HOUR, '1h'))).body).slice(1);
    const last = hours.at(-1)!;
    expect(Date.parse(last[0]!)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(last[1]!)).toBeGreaterThan(before);

    const refusedWith = async (query: string, field: string) => {
      const refused = await csv(w.memberIdA2, w.memberA2.token, query);
      expect(refused.status, query).toBe(400);
      expect(refused.body, query).toMatchObject({ error: 'bad_request', field });
    };
    await refusedWith(range(base + HOUR, base, '15m'), 'querystring/to');
    await refusedWith(range(base, base, '1h'), 'querystring/to');
    await refusedWith(range(base - 100 * 24 * HOUR, base, '15m'), 'querystring/to');
    await refusedWith(range(Date.now() + 24 * HOUR, Date.now() + 48 * HOUR, '1h'), 'querystring/from');
    for (const bad of [`from=yesterday&to=${new Date(base).toISOString()}&resolution=1h`, `from=NaN&to=NaN&resolution=1h`,
      range(base, base + HOUR, '5m'), `from=${new Date(base).toISOString()}&resolution=1h`, `${q}&extra=1`, range(Date.UTC(1999, 0, 1), base, '1mo')]) {
      const refused = await csv(w.memberIdA2, w.memberA2.token, bad);
      expect(refused.status, bad).toBe(400);
      expect(refused.body, bad).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    }
  });
  it('lists a community battery as a row of its own for managers, counted in the community, never as its holder\'s energy', async () => {
    const q = range(base, base + 2 * HOUR, '1d');
    const before = (await tp.call('GET', `/api/v1/communities/${w.communityA}/energy?${q}`, { token: w.managerA.token })).body;
    const point = await tp.call('POST', `/api/v1/communities/${w.communityA}/metering-points`, {
      token: w.managerA.token, body: { name: 'Community battery', gridConnectionId: `ATBAT${Date.now()}`, role: 'prosumer', batteryCapacityWh: 50_000, communityBattery: true },
    });
    expect(point.status, JSON.stringify(point.body)).toBe(201);
    // The battery takes part while its holder does: the manager's part is dated back like the members'.
    expect((await tp.call('PATCH', `/api/v1/members/${point.body.memberId}`, { token: w.managerA.token, body: { activeFrom: PARTICIPATION_START } })).status).toBe(200);
    const device = (await tp.call('POST', `/api/v1/communities/${w.communityA}/device-batches`, { token: w.managerA.token, body: { count: 1 } })).body.deviceIds[0];
    await tp.call('PATCH', `/api/v1/devices/${device}`, { token: w.managerA.token, body: { meteringPointId: point.body.id } });
    // The battery gives 10 Wh a minute for the two hours: 1,200 Wh.
    await send(device, minutes(0, 120).flatMap((m) => [
      { ts: base + m * 60_000, quantity: 'energy.import', value: 70_000 },
      { ts: base + m * 60_000, quantity: 'energy.export', value: 90_000 + 10 * m },
    ]));
    await settle();

    const after = (await tp.call('GET', `/api/v1/communities/${w.communityA}/energy?${q}`, { token: w.managerA.token })).body;
    const managerId = point.body.memberId as string;
    expect(after.batteries).toHaveLength(1);
    expect(after.batteries[0]).toMatchObject({ meteringPointId: point.body.id, name: 'Community battery', holderId: managerId });
    expect(after.batteries[0].totals).toMatchObject({ consumptionWh: 0, productionWh: 1200 });
    // Its holder, the manager, has no row and no energy of the battery's.
    expect(after.members.map((m: { memberId: string }) => m.memberId)).not.toContain(managerId);
    const holder = await energy(managerId, w.managerA.token, q);
    expect(holder.status).toBe(200);
    expect(holder.body.totals).toMatchObject({ consumptionWh: 0, productionWh: 0 });
    // The community counts it: production grew by the battery's.
    expect(after.totals.productionWh).toBe(before.totals.productionWh + 1200);
    const members = after.members.reduce((sum: number, m: { totals: { productionWh: number } }) => sum + m.totals.productionWh, 0);
    expect(after.totals.productionWh).toBe(members + 1200);
    // Members see the community's totals, not the battery rows.
    const asMember = (await tp.call('GET', `/api/v1/communities/${w.communityA}/energy?${q}`, { token: w.memberA2.token })).body;
    expect(asMember.batteries).toBeUndefined();
    expect(asMember.totals.productionWh).toBe(after.totals.productionWh);
  });
});
