import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { Q, storeCommunity, storeIntervals, type StoredCommunity, type StoredInterval } from './support/stored.js';
import { FIXTURE_DIR } from './eda/support/fixtures.js';
import { communityDay, consumptionRecordXml, CONSUMER_A, CONSUMER_B, PRODUCER, viennaDay, type CommunityDay } from './eda/support/messages.js';

/**
 * An Austrian prosumer's two Zählpunkte on one metering point, end to end. The fixtures' consumer
 * B and producer become one household: its point's grid connection id is CONSUMER_B (the
 * consumption Zählpunkt), its generation grid connection id PRODUCER. The operator's messages for
 * both must land on that one point, the member's energy must show what it got from and gave to
 * the community, and reconciliation must compare its import with the consumption Zählpunkt's
 * figures and its export with the generation Zählpunkt's. Expected values come from the fixture
 * scenario (messages.ts), not from the code under test.
 */
const fixture = (name: string) => readFileSync(`${FIXTURE_DIR}${name}`);

describe.each(platformStoreKinds)('a prosumer\'s two Zählpunkte in operator mode on %s', (kind) => {
  let tp: TestPlatform;
  let community: StoredCommunity;
  let day: CommunityDay;
  const changedQuarter = 52;
  const token = () => tp.admin.token;
  const db = () => tp.platform.db;
  const iso = (ms: number) => new Date(ms).toISOString();
  const post = (payload: string | Buffer) => tp.call('POST', `/api/v1/communities/${community.id}/operator-imports`, {
    token: token(), rawBody: payload, headers: { 'content-type': 'application/xml' },
  });
  const range = () => `from=${iso(day.startMs)}&to=${iso(day.startMs + day.count * Q)}`;
  const byStart = (f: (k: number) => StoredInterval) => Object.fromEntries(Array.from({ length: day.count }, (_, k) => [day.startMs + k * Q, f(k)]));
  const prosumer = () => community.members.prosumer!;

  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    day = communityDay('2025-06-01', 1);
    community = await storeCommunity(db(), ['consumerA', 'prosumer'], { mode: 'operator', rule: 'dynamic' });
    await db().query('UPDATE metering_points SET grid_connection_id = $1 WHERE id = $2', [CONSUMER_A, community.members.consumerA!.pointId]);
    // Through the API, as a manager registers it.
    const patched = await tp.call('PATCH', `/api/v1/metering-points/${prosumer().pointId}`, {
      token: token(), body: { gridConnectionId: CONSUMER_B, generationGridConnectionId: PRODUCER, role: 'prosumer' },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    await storeIntervals(db(), community.id, community.members.consumerA!.pointId, byStart((k) => ({ importWh: day.consumptionWh[0]![k]!, exportWh: 0 })));
    // One meter, both registers: B's consumption as import, the producer's feed-in as export.
    await storeIntervals(db(), community.id, prosumer().pointId, byStart((k) => ({ importWh: day.consumptionWh[1]![k]!, exportWh: day.productionWh[k]! })));
    await tp.platform.sharing.flush();
  });
  afterAll(() => tp?.close());

  it('takes both Zählpunkte\'s messages onto the one metering point', async () => {
    for (const name of ['consumer-a-2025-06-01.xml', 'consumer-b-2025-06-01.xml', 'producer-2025-06-01.xml']) {
      const response = await post(fixture(name));
      expect(response.status, `${name}: ${JSON.stringify(response.body)}`).toBe(201);
      expect(response.body).toMatchObject({ rowsStored: day.count, unmatched: [] });
    }
    const imports = await tp.call('GET', `/api/v1/communities/${community.id}/operator-imports`, { token: token() });
    const pointOf = Object.fromEntries(imports.body.map((i: { gridConnectionId: string; meteringPointId: string }) => [i.gridConnectionId, i.meteringPointId]));
    expect(pointOf).toEqual({ [CONSUMER_A]: community.members.consumerA!.pointId, [CONSUMER_B]: prosumer().pointId, [PRODUCER]: prosumer().pointId });

    // One row per quarter hour with the consumption side from the one message and the generation side from the other.
    const rows = await db().query<{ start: Date; consumption_wh: number | null; from_community_wh: number | null; production_wh: number | null; to_community_wh: number | null }>(
      'SELECT start, consumption_wh, from_community_wh, production_wh, to_community_wh FROM operator_allocations WHERE metering_point_id = $1 ORDER BY start', [prosumer().pointId],
    );
    expect(rows).toHaveLength(day.count);
    expect(rows.map((r) => Number(r.consumption_wh))).toEqual(day.consumptionWh[1]);
    expect(rows.map((r) => Number(r.production_wh))).toEqual(day.productionWh);
    // The operator's figures are kept per Zählpunkt (what reconciliation reads).
    const figures = await db().query<{ grid_connection_id: string; n: number }>(
      'SELECT grid_connection_id, count(*)::int AS n FROM operator_figures WHERE metering_point_id = $1 GROUP BY grid_connection_id ORDER BY grid_connection_id', [prosumer().pointId],
    );
    expect(figures).toEqual([{ grid_connection_id: CONSUMER_B, n: day.count }, { grid_connection_id: PRODUCER, n: day.count }]);
  });

  it('shows the member what it got from and gave to the community, as the operator allocated', async () => {
    await tp.platform.sharing.flush();
    const response = await tp.call('GET', `/api/v1/members/${prosumer().memberId}/energy?${range()}&resolution=15m`, { token: token() });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const series = response.body.series as { fromCommunityWh: number; toCommunityWh: number }[];
    expect(series).toHaveLength(day.count);
    const coverage = (i: number, k: number) => day.coverageMilliWh[i]![k]!;
    // From the community: its own coverage G.03 as a consumer; to the community: G.01T − P.01T
    // of its generation Zählpunkt, i.e. what both consumers were covered with, rounded once.
    expect(series.map((b) => b.fromCommunityWh)).toEqual(day.coverageMilliWh[1]!.map((mwh) => Math.round(mwh / 1000)));
    expect(series.map((b) => b.toCommunityWh)).toEqual(day.productionWh.map((_, k) => Math.round((coverage(0, k) + coverage(1, k)) / 1000)));
    expect(series.some((b) => b.fromCommunityWh > 0) && series.some((b) => b.toCommunityWh > 0)).toBe(true);
  });

  it('refuses figures of the other side from either Zählpunkt, storing nothing', async () => {
    const { startMs } = viennaDay('2025-06-02');
    const cases = [
      { meteringPoint: PRODUCER, code: '1-1:1.9.0 G.01' },
      { meteringPoint: CONSUMER_B, code: '1-1:2.9.0 G.01' },
    ];
    for (const c of cases) {
      const xml = consumptionRecordXml({ meteringPoint: c.meteringPoint, energy: [{ startMs, count: 2, series: [{ code: c.code, values: ['0.100', '0.200'] }] }] });
      const response = await post(xml);
      expect(response.status, JSON.stringify(response.body)).toBe(400);
      expect(response.body).toMatchObject({ reason: 'codes_of_other_zaehlpunkt', field: 'ProcessDirectory/Energy' });
    }
    expect((await db().query('SELECT 1 FROM operator_allocations WHERE community_id = $1 AND start >= $2', [community.id, new Date(startMs)])).length).toBe(0);
  });

  it('reconciles the import under the consumption Zählpunkt and the export under the generation Zählpunkt', async () => {
    const agreed = await tp.call('GET', `/api/v1/communities/${community.id}/reconciliation?${range()}`, { token: token() });
    expect(agreed.status, JSON.stringify(agreed.body)).toBe(200);
    expect(agreed.body).toMatchObject({ differenceCount: 0, differences: [], community: { balancedIntervals: day.count, imbalancedIntervals: 0 } });
    const points = new Map(agreed.body.points.map((p: { gridConnectionId: string }) => [p.gridConnectionId, p]));
    const owner = { meteringPointId: prosumer().pointId, memberId: prosumer().memberId };
    expect(points.get(CONSUMER_B)).toMatchObject({ ...owner, role: 'consumption', comparedIntervals: day.count, differenceWh: 0, flagged: 0 });
    expect(points.get(PRODUCER)).toMatchObject({
      ...owner, role: 'generation', comparedIntervals: day.count, meteredWh: day.productionWh.reduce((a, b) => a + b, 0), differenceWh: 0, flagged: 0,
    });

    // The meter's export says 30 Wh more than the operator's generation in one quarter hour.
    const changedStart = day.startMs + changedQuarter * Q;
    expect(day.productionWh[changedQuarter]!).toBeGreaterThan(0);
    await storeIntervals(db(), community.id, prosumer().pointId, {
      [changedStart]: { importWh: day.consumptionWh[1]![changedQuarter]!, exportWh: day.productionWh[changedQuarter]! + 30 },
    });
    const flagged = await tp.call('GET', `/api/v1/communities/${community.id}/reconciliation?${range()}`, { token: token() });
    expect(flagged.body.differences).toEqual([{
      kind: 'production_mismatch', gridConnectionId: PRODUCER, ...owner, start: iso(changedStart),
      operatorWh: day.productionWh[changedQuarter]!, referenceWh: day.productionWh[changedQuarter]! + 30, differenceWh: -30,
      allowedWh: 1, operatorQuality: 'measured', meteredQuality: 'measured',
    }]);
    const after = new Map(flagged.body.points.map((p: { gridConnectionId: string }) => [p.gridConnectionId, p]));
    expect(after.get(PRODUCER)).toMatchObject({ flagged: 1, flaggedByKind: { production_mismatch: 1 }, differenceWh: -30 });
    expect(after.get(CONSUMER_B)).toMatchObject({ flagged: 0, differenceWh: 0 });
  });
});
