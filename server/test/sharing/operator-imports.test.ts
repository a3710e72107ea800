import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { decodeEntry } from '../../src/ledger/domain/index.js';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { Q, storeCommunity, storeIntervals, type StoredCommunity, type StoredInterval } from './support/stored.js';
import { FIXTURE_DIR } from './eda/support/fixtures.js';
import {
  communityDay, consumptionRecordXml, CONSUMER_A, CONSUMER_B, kwh, PRODUCER, viennaDay, type CommunityDay,
} from './eda/support/messages.js';

/**
 * The operator-import mode end to end: a community in operator mode whose metering points carry
 * the fixtures' Zählpunkte, metered intervals stored as the interval job would, the operator's
 * EDA messages POSTed as XML, the sharing job run, and the members' energy read over the API.
 * Expected values are computed here from the fixture scenario (messages.ts), not by the code
 * under test.
 */
const fixture = (name: string) => readFileSync(`${FIXTURE_DIR}${name}`);
const OTHER_ZP = 'AT0010000000000000001000000000999';
const KIB = 1024;

describe.each(platformStoreKinds)('operator imports and reconciliation on %s', (kind) => {
  let tp: TestPlatform;
  let community: StoredCommunity;
  let other: StoredCommunity;
  let day: CommunityDay;
  const changedQuarter = 40;
  const token = () => tp.admin.token;
  const post = (communityId: string, payload: string | Buffer, options: { type?: string; query?: string } = {}) =>
    tp.call('POST', `/api/v1/communities/${communityId}/operator-imports${options.query ?? ''}`, {
      token: token(), rawBody: payload, headers: { 'content-type': options.type ?? 'application/xml' },
    });
  const db = () => tp.platform.db;
  const counts = async () => {
    const [imports, allocations, figures] = await Promise.all(['operator_imports', 'operator_allocations', 'operator_figures'].map((table) =>
      db().query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE community_id = $1`, [community.id])));
    return { imports: imports![0]!.n, allocations: allocations![0]!.n, figures: figures![0]!.n };
  };
  const allocation = async (pointId: string, startMs: number) =>
    (await db().query<{ consumption_wh: number | null; from_community_wh: number | null }>(
      'SELECT consumption_wh, from_community_wh FROM operator_allocations WHERE metering_point_id = $1 AND start = $2', [pointId, new Date(startMs)]))[0];
  const reconciliation = (query: string) => tp.call('GET', `/api/v1/communities/${community.id}/reconciliation?${query}`, { token: token() });
  const iso = (ms: number) => new Date(ms).toISOString();

  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    day = communityDay('2025-06-01', 1);
    community = await storeCommunity(db(), ['consumerA', 'consumerB', 'producer'], { mode: 'operator', rule: 'dynamic' });
    other = await storeCommunity(db(), ['elsewhere'], { mode: 'operator' });
    const zp: Record<string, string> = { consumerA: CONSUMER_A, consumerB: CONSUMER_B, producer: PRODUCER };
    for (const [name, { pointId }] of Object.entries(community.members)) {
      await db().query('UPDATE metering_points SET grid_connection_id = $1 WHERE id = $2', [zp[name], pointId]);
    }
    await db().query('UPDATE metering_points SET grid_connection_id = $1 WHERE id = $2', [OTHER_ZP, other.members.elsewhere!.pointId]);
    const byStart = (f: (k: number) => StoredInterval) => Object.fromEntries(Array.from({ length: day.count }, (_, k) => [day.startMs + k * Q, f(k)]));
    await storeIntervals(db(), community.id, community.members.consumerA!.pointId, byStart((k) => ({ importWh: day.consumptionWh[0]![k]!, exportWh: 0 })));
    // Consumer B's meter says 50 Wh more than the operator in one quarter hour: reconciliation must flag exactly that.
    await storeIntervals(db(), community.id, community.members.consumerB!.pointId,
      byStart((k) => ({ importWh: day.consumptionWh[1]![k]! + (k === changedQuarter ? 50 : 0), exportWh: 0 })));
    await storeIntervals(db(), community.id, community.members.producer!.pointId, byStart((k) => ({ importWh: 0, exportWh: day.productionWh[k]! })));
    await tp.platform.sharing.flush();
  });
  afterAll(() => tp?.close());

  it('imports the operator\'s messages and the sharing job gives members the operator\'s figures', async () => {
    for (const name of ['consumer-a-2025-06-01.xml', 'consumer-b-2025-06-01.xml', 'producer-2025-06-01.xml']) {
      const response = await post(community.id, fixture(name), { type: name.startsWith('producer') ? 'text/xml; charset=utf-8' : 'application/xml' });
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      expect(response.body).toMatchObject({
        communityId: community.id, documentMode: 'PROD', schemaVersion: '01.41', ecId: 'AT00100000000RC100001000000000001',
        periodFrom: iso(day.startMs), periodTo: iso(day.startMs + day.count * Q), rowsStored: day.count, unmatched: [], unknownCodes: [],
        importedBy: expect.any(String),
      });
    }
    await tp.platform.sharing.flush();

    const energy = async (memberId: string) => {
      const response = await tp.call('GET', `/api/v1/members/${memberId}/energy?from=${iso(day.startMs)}&to=${iso(day.startMs + day.count * Q)}&resolution=15m`, { token: token() });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return response.body.series as { fromCommunityWh: number; toCommunityWh: number; consumptionWh: number; fromGridWh: number }[];
    };
    // Own coverage (G.03) in whole Wh, rounded once from the exact mWh.
    const coverageWh = (i: number) => day.coverageMilliWh[i]!.map((mwh) => Math.round(mwh / 1000));
    const a = await energy(community.members.consumerA!.memberId);
    expect(a.map((b) => b.fromCommunityWh)).toEqual(coverageWh(0));
    expect(a.map((b) => b.fromGridWh)).toEqual(day.consumptionWh[0]!.map((wh, k) => wh - coverageWh(0)[k]!));
    const b = await energy(community.members.consumerB!.memberId);
    expect(b.map((x) => x.fromCommunityWh)).toEqual(coverageWh(1));
    // The producer gave G.01T − P.01T, i.e. Σ coverage of the consumers, rounded once.
    const producer = await energy(community.members.producer!.memberId);
    expect(producer.map((x) => x.toCommunityWh)).toEqual(day.coverageMilliWh[0]!.map((mwh, k) => Math.round((mwh + day.coverageMilliWh[1]![k]!) / 1000)));
    expect(coverageWh(0).some((wh) => wh > 0)).toBe(true);
  });

  it('answers a replay of the same message with the earlier import and changes nothing', async () => {
    const list = await tp.call('GET', `/api/v1/communities/${community.id}/operator-imports`, { token: token() });
    const first = list.body.find((i: { gridConnectionId: string }) => i.gridConnectionId === CONSUMER_A);
    const snapshot = () => db().query('SELECT * FROM operator_allocations WHERE community_id = $1 ORDER BY metering_point_id, start', [community.id]);
    const before = { counts: await counts(), rows: await snapshot() };
    const replay = await post(community.id, fixture('consumer-a-2025-06-01.xml'));
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first);
    expect({ counts: await counts(), rows: await snapshot() }).toEqual(before);
    expect((await db().query('SELECT 1 FROM sharing_dirty WHERE community_id = $1', [community.id])).length).toBe(0);
    // The same id with other content is not a replay.
    const altered = fixture('consumer-a-2025-06-01.xml').toString('utf8').replace('<cp:BQ>0.152</cp:BQ>', '<cp:BQ>0.153</cp:BQ>');
    const conflict = await post(community.id, altered);
    expect(conflict.status).toBe(409);
    expect(await counts()).toEqual(before.counts);

    // The import is in the verifiable record once, committing to the exact bytes received; the replay and the refusal added nothing.
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.ledger.job.flush();
    const rows = await db().query<{ body: Uint8Array }>("SELECT body FROM ledger_entries WHERE kind = 'operator-import.accepted' AND subject = $1", [first.id]);
    expect(rows).toHaveLength(1);
    const bytes = fixture('consumer-a-2025-06-01.xml');
    expect(decodeEntry(rows[0]!.body)).toMatchObject({
      community: community.id, import: first.id, format: 'eda-consumption-record', meteringPoints: 1, operator: first.sender,
      document: { mediaType: 'application/xml', sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length },
    });
  });

  it('lists imports newest first', async () => {
    const list = await tp.call('GET', `/api/v1/communities/${community.id}/operator-imports`, { token: token() });
    expect(list.status).toBe(200);
    expect(list.body.map((i: { gridConnectionId: string }) => i.gridConnectionId)).toEqual([PRODUCER, CONSUMER_B, CONSUMER_A]);
    expect((await tp.call('GET', `/api/v1/communities/${community.id}/operator-imports?limit=1`, { token: token() })).body).toHaveLength(1);
  });

  it('refuses bad messages whole with clear errors and stores nothing', async () => {
    const before = await counts();
    const good = fixture('consumer-a-2025-06-01.xml');
    const cases: { payload: string | Buffer; type?: string; query?: string; status: number; match: Record<string, unknown> }[] = [
      { payload: good.subarray(0, good.length - 200), status: 400, match: { error: 'bad_request', reason: 'malformed_xml' } },
      { payload: good.toString('utf8').replace('<cp:BQ>0.040</cp:BQ>', '<cp:BQ>0,040</cp:BQ>'), status: 400, match: { reason: 'bad_quantity', field: expect.any(String) } },
      { payload: '{"messageId": "x"}', type: 'application/json', status: 415, match: { error: 'unsupported_media_type' } },
      { payload: good, type: 'text/plain', status: 415, match: { error: 'unsupported_media_type' } },
      { payload: Buffer.alloc(5 * KIB * KIB, 0x20), status: 413, match: { error: 'payload_too_large' } },
      { payload: '', status: 400, match: { error: 'bad_request' } },
      { payload: consumptionRecordXml({ meteringPoint: CONSUMER_A, documentMode: 'SIMU', energy: [smallEnergy('2025-06-02')] }), status: 400,
        match: { reason: 'simulation_message', field: 'MarketParticipantDirectory/@DocumentMode' } },
      // Another community's Zählpunkt: known there, not here — refused without saying where it is known.
      { payload: consumptionRecordXml({ meteringPoint: OTHER_ZP, energy: [smallEnergy('2025-06-02')] }), status: 400,
        match: { reason: 'unknown_metering_point', field: 'ProcessDirectory/MeteringPoint' } },
      { payload: good, query: '?allowSimulation=maybe', status: 400, match: { error: 'bad_request' } },
    ];
    for (const c of cases) {
      const response = await post(community.id, c.payload, { ...(c.type ? { type: c.type } : {}), ...(c.query ? { query: c.query } : {}) });
      expect(response.status, `${c.status}: ${JSON.stringify(response.body)}`).toBe(c.status);
      expect(response.body).toMatchObject({ message: expect.any(String), ...c.match });
    }
    expect(await counts()).toEqual(before);
    expect((await db().query('SELECT 1 FROM operator_allocations WHERE community_id = $1', [other.id])).length).toBe(0);
  });

  it('imports a test message only when asked to, and records it as SIMU', async () => {
    const xml = consumptionRecordXml({ meteringPoint: CONSUMER_A, documentMode: 'SIMU', messageId: 'SIMU0001', energy: [smallEnergy('2025-06-04')] });
    const response = await post(community.id, xml, { query: '?allowSimulation=true' });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect(response.body).toMatchObject({ documentMode: 'SIMU', rowsStored: 4 });
  });

  it('accepts a message far above the JSON body limit (ten days of one Zählpunkt with every code)', async () => {
    const { startMs } = viennaDay('2025-07-01');
    const count = 10 * 96;
    const values = Array.from({ length: count }, (_, k) => kwh((k % 97) * 1_000, 3));
    const xml = consumptionRecordXml({
      meteringPoint: CONSUMER_A, messageId: 'TENDAYS01',
      energy: [{ startMs, count, series: ['1-1:1.9.0 G.01', '1-1:1.9.0 G.01T', '1-1:2.9.0 G.02', '1-1:2.9.0 G.03'].map((code) => ({ code, values })) }],
    });
    expect(xml.length).toBeGreaterThan(700 * KIB);
    const response = await post(community.id, xml);
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect(response.body).toMatchObject({ rowsStored: count, periodFrom: iso(startMs), periodTo: iso(startMs + count * Q) });
  });

  it('keeps the newer of two messages whatever the upload order, and never mixes communities (ECID)', async () => {
    const { startMs } = viennaDay('2025-06-03');
    const message = (id: string, createdMs: number, bq: string, method: string, communityId?: string) => consumptionRecordXml({
      meteringPoint: CONSUMER_A, messageId: id, createdMs, ...(communityId ? { communityId } : {}),
      energy: [{ startMs, count: 4, series: [{ code: '1-1:2.9.0 G.03', values: [bq, bq, bq, bq], methods: method }] }],
    });
    const correction = message('CORR0002', startMs + 2 * 86_400_000, kwh(30_000), 'L1');
    const provisional = message('PROV0001', startMs + 86_400_000, kwh(99_000), 'L3');
    expect((await post(community.id, correction)).status).toBe(201);
    expect((await post(community.id, provisional)).status).toBe(201);
    expect(await allocation(community.members.consumerA!.pointId, startMs)).toMatchObject({ from_community_wh: 30 });
    const foreign = message('ECID0003', startMs + 3 * 86_400_000, kwh(1_000), 'L1', 'AT00100000000RC100001000000000002');
    expect((await post(community.id, foreign)).status).toBe(409);
    expect(await allocation(community.members.consumerA!.pointId, startMs)).toMatchObject({ from_community_wh: 30 });
  });

  it('reconciles the operator\'s figures with the metered intervals per member and quarter hour', async () => {
    const range = `from=${iso(day.startMs)}&to=${iso(day.startMs + day.count * Q)}`;
    const response = await reconciliation(range);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const changedStart = day.startMs + changedQuarter * Q;
    expect(response.body.differences).toEqual([{
      kind: 'consumption_mismatch', gridConnectionId: CONSUMER_B, meteringPointId: community.members.consumerB!.pointId,
      memberId: community.members.consumerB!.memberId, start: iso(changedStart),
      operatorWh: day.consumptionWh[1]![changedQuarter]!, referenceWh: day.consumptionWh[1]![changedQuarter]! + 50, differenceWh: -50,
      allowedWh: 1, operatorQuality: 'measured', meteredQuality: 'measured',
    }]);
    expect(response.body).toMatchObject({ differenceCount: 1, truncated: false, community: { balancedIntervals: day.count, imbalancedIntervals: 0 } });
    const points = new Map(response.body.points.map((p: { gridConnectionId: string }) => [p.gridConnectionId, p]));
    expect(points.get(CONSUMER_A)).toMatchObject({
      role: 'consumption', memberId: community.members.consumerA!.memberId, comparedIntervals: day.count, differenceWh: 0, flagged: 0,
    });
    expect(points.get(CONSUMER_B)).toMatchObject({ flagged: 1, flaggedByKind: { consumption_mismatch: 1 }, differenceWh: -50, largestDifferenceWh: 50 });
    expect(points.get(PRODUCER)).toMatchObject({ role: 'generation', meteringPointId: community.members.producer!.pointId, flagged: 0 });

    // A tolerance of 50 Wh accepts the difference; 49 Wh does not.
    expect((await reconciliation(`${range}&toleranceWh=50`)).body.differences).toEqual([]);
    expect((await reconciliation(`${range}&toleranceWh=49`)).body.differenceCount).toBe(1);
    expect((await reconciliation(`${range}&tolerancePercent=100`)).body.differenceCount).toBe(0);
    expect((await reconciliation(`${range}&limit=1`)).body).toMatchObject({ truncated: false, differences: [expect.any(Object)] });
  });

  it('reports quarter hours the operator did not send, and refuses bad ranges', async () => {
    // The day before: metered nothing, operator nothing — and the SIMU quarter hours of 4 June have no metered data.
    const simu = viennaDay('2025-06-04').startMs;
    const response = await reconciliation(`from=${iso(simu)}&to=${iso(simu + 8 * Q)}`);
    expect(response.status).toBe(200);
    expect(response.body.differences.map((d: { kind: string }) => d.kind)).toEqual(Array(4).fill('missing_metered_interval'));
    expect(response.body.differences[0]).toMatchObject({ memberId: community.members.consumerA!.memberId, referenceWh: null });

    const bad = [
      `from=${iso(day.startMs + 60_000)}&to=${iso(day.startMs + Q)}`,
      `from=${iso(day.startMs)}&to=${iso(day.startMs)}`,
      `from=${iso(day.startMs)}&to=${iso(day.startMs + 32 * 86_400_000)}`,
      `from=2025-06-01T02:00:00%2B02:00&to=${iso(day.startMs + Q)}`,
      `from=${iso(day.startMs)}`,
      `from=${iso(day.startMs)}&to=${iso(day.startMs + Q)}&tolerancePercent=101`,
      `from=${iso(day.startMs)}&to=${iso(day.startMs + Q)}&toleranceWh=-1`,
    ];
    for (const query of bad) {
      const refused = await reconciliation(query);
      expect(refused.status, query).toBe(400);
      expect(refused.body).toMatchObject({ error: 'bad_request', message: expect.any(String) });
    }
    expect((await reconciliation(`from=${iso(day.startMs)}&to=${iso(day.startMs + 31 * 86_400_000 + 3_600_000)}`)).status).toBe(200);
  });
});

/** Four quarter hours of consumption from local midnight of the day. */
function smallEnergy(isoDate: string) {
  return { startMs: viennaDay(isoDate).startMs, count: 4, series: [{ code: '1-1:1.9.0 G.01', values: ['0.100', '0.200', '0.300', '0.400'] }] };
}
