import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { runSharing, storeIntervals } from '../sharing/support/stored.js';
import { correctSettledSlots } from '../../src/market/service.js';
import { iso, MIN, Q, SETTINGS, T0 } from './operation-support.js';

interface MarketLine { kind: string; correction: boolean; energyWh: number; count: number; amount: string; exactAmount: string }
interface StatementBody {
  id: string; memberId: string; kind: string; total: string;
  lines: { code: string; energyWh: number; amount: string }[];
  energy: { fromCommunityWh: number; toCommunityWh: number };
  market?: { quarterHours: number; lines: MarketLine[]; total: string };
}

/**
 * The local market on the members' monthly statements. A sells 4,000 Wh to A2 in one slot and buys
 * 3,000 Wh from A2 in the next; a third quarter hour is shared without trading. Settings: fee 0.0100,
 * balancing 0.0600 / 0.2800; the tariff's community price 0.15. Every figure below is computed by
 * hand from those.
 */
describe.each(platformStoreKinds)('market lines on statements on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let clock = T0;
  const s1 = T0 + 8 * Q;
  const s2 = T0 + 9 * Q;
  const s3 = T0 + 10 * Q;
  let settlementId = '';

  const manager = (method: string, path: string, body?: unknown) => tp.call(method, `/api/v1${path}`, { token: w.managerA.token, ...(body === undefined ? {} : { body }) });
  const order = (who: 'A' | 'A2', slot: number, side: 'buy' | 'sell', energyWh: number, price: string) => {
    const [token, memberId] = who === 'A' ? [w.memberA.token, w.memberIdA] : [w.memberA2.token, w.memberIdA2];
    return tp.call('POST', `/api/v1/members/${memberId}/market/orders`, { token, body: { slotStart: iso(slot), side, energyWh, price } });
  };
  const statementsOf = async (): Promise<StatementBody[]> => {
    const settlement = (await manager('GET', `/settlements/${settlementId}`)).body as { statements: { id: string }[] };
    return Promise.all(settlement.statements.map(async (s) => (await manager('GET', `/statements/${s.id}`)).body as StatementBody));
  };
  const marketRows = (s: StatementBody) => s.market!.lines.map((l) => [l.kind, l.correction, l.energyWh, l.amount]);

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { market: { now: () => clock, lookbackMs: 6 * 60 * MIN, finalDelayMs: 30 * MIN, everyMs: 3_600_000 } });
    w = await buildWorld(tp);
    expect((await manager('PUT', `/communities/${w.communityA}/market/settings`, SETTINGS)).status).toBe(200);
    expect((await manager('POST', `/communities/${w.communityA}/market/top-ups`, { memberId: w.memberIdA2, amount: '20.00', reference: 'bank' })).status).toBe(201);
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA, {
      [s1]: { importWh: 0, exportWh: 6000 }, [s2]: { importWh: 3500, exportWh: 0 }, [s3]: { importWh: 0, exportWh: 2000 },
    });
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, {
      [s1]: { importWh: 4000, exportWh: 0 }, [s2]: { importWh: 0, exportWh: 5000 }, [s3]: { importWh: 2000, exportWh: 0 },
    });
    await runSharing(tp.platform.db);
    clock = T0;
    for (const [who, slot, side, wh, price] of [
      ['A', s1, 'sell', 5000, '0.1000'], ['A2', s1, 'buy', 4000, '0.2000'],
      ['A2', s2, 'sell', 5000, '0.0900'], ['A', s2, 'buy', 3000, '0.1900'],
    ] as const) {
      clock += 1_000;
      expect((await order(who, slot, side, wh, price)).status).toBe(201);
    }
    for (const slot of [s1, s2, s3]) {
      clock = slot - 5 * MIN;
      await tp.platform.market.flush();
    }
    clock = s3 + Q + 30 * MIN;
    await tp.platform.market.flush();
    const run = await manager('POST', `/communities/${w.communityA}/settlements`, { period: '2026-01' });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    settlementId = run.body.id;
  }, 300_000);
  afterAll(() => tp?.close());

  it('shows each trade, fee and balancing as market lines, exact, in a total of their own', async () => {
    const statements = await statementsOf();
    const a = statements.find((s) => s.memberId === w.memberIdA)!;
    const a2 = statements.find((s) => s.memberId === w.memberIdA2)!;
    // A: sold 4,000 Wh at the midpoint of 0.1900 (bid less fee) and 0.1000 = 0.1450; bought 3,000 Wh at
    // (0.1800 + 0.0900) / 2 = 0.1350 plus the fee; delivered 2,000 Wh beyond its sale, used 500 Wh beyond its purchase.
    expect(marketRows(a)).toEqual([
      ['sale', false, 4000, '-0.58'], ['purchase', false, 3000, '0.41'], ['grid-fee', false, 3000, '0.03'],
      ['balancing-surplus', false, 2000, '-0.12'], ['balancing-shortfall', false, 500, '0.14'],
    ]);
    expect(a.market!.lines.map((l) => l.exactAmount)).toEqual(['-0.58', '0.405', '0.03', '-0.12', '0.14']);
    expect(a.market!.total).toBe('-0.12');
    // A2: 0.58 + 0.04 − 0.405 (rounded once, half away from zero: −0.41) − 0.12.
    expect(marketRows(a2)).toEqual([
      ['sale', false, 3000, '-0.41'], ['purchase', false, 4000, '0.58'], ['grid-fee', false, 4000, '0.04'], ['balancing-surplus', false, 2000, '-0.12'],
    ]);
    expect(a2.market!.total).toBe('0.09');
    expect([a.market!.quarterHours, a2.market!.quarterHours]).toEqual([2, 2]);
    // The market's total is what the wallet paid: the statement's total (what an invoice bills) leaves it out.
    const wallet = (await tp.call('GET', `/api/v1/members/${w.memberIdA2}/market/wallet`, { token: w.memberA2.token })).body as { balance: string };
    expect(wallet.balance).toBe('19.905');
  });

  it('does not bill traded quarter hours at the community price as well', async () => {
    const statements = await statementsOf();
    const a = statements.find((s) => s.memberId === w.memberIdA)!;
    const a2 = statements.find((s) => s.memberId === w.memberIdA2)!;
    // Only the untraded quarter hour is billed by the tariff: 2,000 Wh at 0.15 (the tariff reduces no grid fee).
    expect(a2.lines.map((l) => [l.code, l.energyWh, l.amount])).toEqual([['community-energy', 2000, '0.30'], ['grid-fee-reduction', 2000, '0.00']]);
    expect(a.lines.map((l) => [l.code, l.energyWh, l.amount])).toEqual([['community-sales', 2000, '-0.30']]);
    expect([a.total, a2.total]).toEqual(['-0.30', '0.30']);
    // Sharing still split the traded quarter hours: the energy by source shows them as metered.
    expect(a2.energy.fromCommunityWh).toBe(4000 + 2000);
    expect(a.energy.fromCommunityWh).toBe(3500);
    const csv = await tp.call('GET', `/api/v1/statements/${a2.id}/statement.csv`, { token: w.memberA2.token });
    expect(csv.status).toBe(200);
    expect(String(csv.body)).toContain('market:purchase');
    expect(String(csv.body)).toMatch(/market-total,[^\r\n]*,0\.09,/);
  });

  it('issues late meter data and a dispute decided for the member as correction lines after the month is closed', async () => {
    const gaps = (await manager('GET', `/settlements/${settlementId}/gaps`)).body as { missingQuarterHours: number };
    const closed = await manager('POST', `/settlements/${settlementId}/close?confirmMissing=${gaps.missingQuarterHours}`);
    expect(closed.status, JSON.stringify(closed.body)).toBe(200);

    // A2 used 500 Wh more in the first slot than was metered at settlement: 500 Wh short of its purchase at 0.28.
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, { [s1]: { importWh: 4500, exportWh: 0 } });
    await runSharing(tp.platform.db);
    expect(await correctSettledSlots(tp.platform.db, tp.platform.events, w.communityA, [s1], clock)).toBe(1);
    // A2 disputes its purchase; the manager refunds 0.10.
    const wallet = (await tp.call('GET', `/api/v1/members/${w.memberIdA2}/market/wallet`, { token: w.memberA2.token })).body as { postings: { sequence: number; line: string | null }[] };
    const purchase = wallet.postings.find((p) => p.line === 'purchase')!;
    const filed = await tp.call('POST', `/api/v1/members/${w.memberIdA2}/market/disputes`, { token: w.memberA2.token, body: { posting: purchase.sequence, reason: 'meter was wrong' } });
    expect(filed.status).toBe(201);
    const resolved = await manager('POST', `/communities/${w.communityA}/market/disputes/${filed.body.id}/resolution`, { outcome: 'corrected', note: 'refund', amount: '0.10' });
    expect(resolved.status, JSON.stringify(resolved.body)).toBe(200);

    const recompute = await manager('POST', `/settlements/${settlementId}/recompute`);
    expect(recompute.status, JSON.stringify(recompute.body)).toBe(200);
    const statements = await statementsOf();
    const issued = statements.find((s) => s.memberId === w.memberIdA2 && s.kind === 'statement')!;
    const correction = statements.find((s) => s.memberId === w.memberIdA2 && s.kind === 'correction')!;
    expect(marketRows(correction)).toEqual([['balancing-shortfall', true, 500, '0.14'], ['dispute-correction', true, 0, '-0.10']]);
    expect(correction.market!.total).toBe('0.04');
    expect(correction.market!.quarterHours).toBe(0);
    // The extra 500 Wh came from the community in a traded quarter hour: no tariff line for it.
    expect(correction.lines).toEqual([]);
    expect(correction.total).toBe('0.00');
    // The statement issued at closing is unchanged.
    expect(issued.market!.total).toBe('0.09');
    // A delivered those 500 Wh to the community (sharing's split changed), but in a quarter hour the
    // market settled for A too: its correction shows the energy and bills nothing.
    const ofA = statements.filter((s) => s.memberId === w.memberIdA && s.kind === 'correction');
    expect(ofA.map((s) => [s.energy.toCommunityWh, s.lines, s.total, s.market])).toEqual([[500, [], '0.00', undefined]]);

    // Recomputing again issues nothing more.
    expect((await manager('POST', `/settlements/${settlementId}/recompute`)).status).toBe(200);
    expect((await statementsOf()).length).toBe(statements.length);
  });
});
