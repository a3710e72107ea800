import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { memberRow, Q, storeCommunity, storeIntervals, type StoredCommunity } from './support/stored.js';
import { consumptionRecordXml, CONSUMER_A, kwh, viennaDay } from './eda/support/messages.js';

/**
 * The operator's provisional substitutes (EDA metering method L3) keep the member's quarter
 * hours provisional; the final figures (L1) that replace them make them final.
 */
describe.each(platformStoreKinds)('provisional operator figures on %s', (kind) => {
  let tp: TestPlatform;
  let community: StoredCommunity;
  const { startMs } = viennaDay('2025-06-10');
  const coverage = (id: string, createdMs: number, wh: number, method: string) => consumptionRecordXml({
    meteringPoint: CONSUMER_A, messageId: id, createdMs,
    energy: [{ startMs, count: 4, series: [{ code: '1-1:2.9.0 G.03', values: [1, 2, 3, 4].map(() => kwh(wh * 1000)), methods: method }] }],
  });
  const post = (xml: string) => tp.call('POST', `/api/v1/communities/${community.id}/operator-imports`, {
    token: tp.admin.token, rawBody: xml, headers: { 'content-type': 'application/xml' },
  });

  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    community = await storeCommunity(tp.platform.db, ['consumerA'], { mode: 'operator' });
    await tp.platform.db.query('UPDATE metering_points SET grid_connection_id = $1 WHERE id = $2', [CONSUMER_A, community.members.consumerA!.pointId]);
    const quarters = Object.fromEntries([0, 1, 2, 3].map((q) => [startMs + q * Q, { importWh: 200, exportWh: 0 }]));
    await storeIntervals(tp.platform.db, community.id, community.members.consumerA!.pointId, quarters);
  });
  afterAll(() => tp?.close());

  it('flags the split provisional while the operator\'s figures are provisional, and final once they are', async () => {
    expect((await post(coverage('PROV0010', startMs + 86_400_000, 120, 'L3'))).status).toBe(201);
    await tp.platform.sharing.flush();
    expect(await memberRow(tp.platform.db, community.members.consumerA!.memberId, startMs)).toMatchObject({ fromCommunity: 120, fromGrid: 80, provisional: true });

    expect((await post(coverage('FINAL011', startMs + 2 * 86_400_000, 150, 'L1'))).status).toBe(201);
    await tp.platform.sharing.flush();
    expect(await memberRow(tp.platform.db, community.members.consumerA!.memberId, startMs)).toMatchObject({ fromCommunity: 150, fromGrid: 50, provisional: false });
  });
});
