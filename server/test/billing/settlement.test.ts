import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, storeKinds } from '../support/stores.js';
import type { Db } from '../../src/platform/store/db.js';
import type { UserPrincipal } from '../../src/kernel/principal.js';
import { monthRange } from '../../src/kernel/calendar.js';
import { closeSettlement, getSettlement, getStatement, recomputeSettlement, runSettlement, settlementGaps } from '../../src/billing/settlements.js';
import { EventBus } from '../../src/platform/events/index.js';
import { Q, runSharing, storeCommunity, storeIntervals, type StoredCommunity } from '../sharing/support/stored.js';

/** The latest October that has ended: a month with the 25-hour day of the change back from CEST. */
function lastOctober(): string {
  const now = new Date();
  const year = now.getUTCMonth() >= 10 ? now.getUTCFullYear() : now.getUTCFullYear() - 1;
  return `${year}-10`;
}

/** No subscribers here: the events billing publishes are tested where the ledger consumes them (server/test/ledger). */
const events = new EventBus();

const admin: UserPrincipal = { kind: 'user', userId: '00000000-0000-4000-8000-000000000001', email: 'admin@example.org', isAdmin: true, memberships: [] };

/** Half away from zero to the cent, from Wh × a price in micro-units, by hand with BigInt. */
const cents = (wh: number, microPrice: bigint) => {
  const nano = BigInt(wh) * microPrice;
  const magnitude = nano < 0n ? -nano : nano;
  const rounded = (magnitude + 5_000_000n) / 10_000_000n;
  return nano < 0n ? -rounded : rounded;
};
const text = (c: bigint) => `${c < 0n ? '-' : ''}${(c < 0n ? -c : c) / 100n}.${String((c < 0n ? -c : c) % 100n).padStart(2, '0')}`;

describe.each(storeKinds)('settlements and statements on %s', (kind) => {
  let db: Db;
  let close: () => Promise<void>;
  let c: StoredCommunity;
  const period = lastOctober();
  const range = monthRange(period, 'Europe/Vienna')!;
  const quarters = (range.endMs - range.startMs) / Q;
  const exportAt = (t: number) => 100 + (t % 7) * 37;
  const importAt = (t: number) => 90 + (t % 5) * 41;

  beforeAll(async () => {
    ({ db, close } = await openTestDb(kind));
    c = await storeCommunity(db, ['library', 'anna']);
    await db.query(
      `INSERT INTO tariffs (community_id, name, grid_price, community_price, feed_in_price, grid_fee_reduction, valid_from)
       VALUES ($1, 'Standard', 0.30, 0.15, 0.07, 0.02, '2020-01-01')`, [c.id],
    );
    const library: Record<number, { importWh: number; exportWh: number }> = {};
    const anna: Record<number, { importWh: number; exportWh: number }> = {};
    for (let t = 0; t < quarters; t++) {
      library[range.startMs + t * Q] = { importWh: 0, exportWh: exportAt(t) };
      anna[range.startMs + t * Q] = { importWh: importAt(t), exportWh: 0 };
    }
    await storeIntervals(db, c.id, c.members.library!.pointId, library);
    await storeIntervals(db, c.id, c.members.anna!.pointId, anna);
    await runSharing(db);
  });
  afterAll(() => close?.());

  it('settles a month with a DST change in the community\'s zone, and the cents add up', async () => {
    expect(quarters).toBe(2980);
    const settlement = await runSettlement(db, admin, c.id, period);
    expect(settlement).toMatchObject({ period, state: 'draft', periodStart: new Date(range.startMs).toISOString() });
    // Local midnight of 1 October (CEST) and of 1 November (CET).
    expect(settlement.periodStart.slice(11, 16)).toBe('22:00');
    expect(settlement.periodEnd.slice(11, 16)).toBe('23:00');

    let shared = 0;
    for (let t = 0; t < quarters; t++) shared += Math.min(importAt(t), exportAt(t));
    const anna = await getStatement(db, admin, settlement.statements.find((s) => s.memberId === c.members.anna!.memberId)!.id);
    expect(anna.quarterHours).toEqual({ expected: 2980, withData: 2980, estimated: 0, missing: 0, provisional: 0 });
    expect(anna.energy.fromCommunityWh).toBe(shared);
    const energyLine = cents(shared, 150_000n);
    const reduction = -cents(shared, 20_000n);
    expect(anna.lines.map((l) => [l.code, l.energyWh, l.amount])).toEqual([
      ['community-energy', shared, text(energyLine)],
      ['grid-fee-reduction', shared, text(reduction)],
    ]);
    expect(anna.total).toBe(text(energyLine + reduction));

    const library = await getStatement(db, admin, settlement.statements.find((s) => s.memberId === c.members.library!.memberId)!.id);
    // The producer is paid for what the community took: a negative line.
    expect(library.lines.map((l) => [l.code, l.energyWh, l.amount])).toEqual([['community-sales', shared, text(-cents(shared, 150_000n))]]);
    expect(settlement.totals.amount).toBe(text(energyLine + reduction - cents(shared, 150_000n)));
    expect(settlement.totals).toMatchObject({ statements: 2, corrections: 0, fromCommunityWh: shared, toCommunityWh: shared });
  });

  it('closes the month for good, in the database too, and turns late data into a correction', async () => {
    const draft = await runSettlement(db, admin, c.id, period);
    const closed = await closeSettlement(db, admin, draft.id, events);
    expect(closed.state).toBe('closed');
    await expect(closeSettlement(db, admin, draft.id, events)).rejects.toMatchObject({ code: 'conflict' });
    await expect(runSettlement(db, admin, c.id, period)).rejects.toMatchObject({ code: 'conflict' });
    const issued = closed.statements.map((s) => ({ id: s.id, total: s.total }));

    // Whatever the application does, the database refuses to change a closed month.
    await expect(db.query(`UPDATE statements SET total = '0.00' WHERE settlement_id = $1`, [draft.id])).rejects.toThrow(/never changed/);
    await expect(db.query('DELETE FROM statements WHERE settlement_id = $1', [draft.id])).rejects.toThrow(/closed settlement/);
    await expect(db.query(`UPDATE settlements SET state = 'draft' WHERE id = $1`, [draft.id])).rejects.toThrow(/closed/);
    await expect(db.query('DELETE FROM settlements WHERE id = $1', [draft.id])).rejects.toThrow(/closed/);
    await expect(db.query(
      `INSERT INTO statements (settlement_id, community_id, member_id, display_name, kind, sequence, currency, total, document)
       VALUES ($1, $2, $3, 'x', 'statement', 0, 'EUR', '0.00', '{}')`, [draft.id, c.id, c.members.library!.memberId],
    )).rejects.toThrow();

    // Nothing changed: recomputing issues nothing.
    expect((await recomputeSettlement(db, admin, draft.id, events)).totals.corrections).toBe(0);

    // Late data: in the first quarter hour Anna used 1,000 Wh more (the library exported 100 there).
    const first = range.startMs;
    await storeIntervals(db, c.id, c.members.anna!.pointId, { [first]: { importWh: importAt(0) + 1000, exportWh: 0 } });
    await storeIntervals(db, c.id, c.members.library!.pointId, { [first]: { importWh: 0, exportWh: 100 + 1000 } });
    await runSharing(db);
    const recomputed = await recomputeSettlement(db, admin, draft.id, events);
    expect(recomputed.state).toBe('closed');
    expect(recomputed.statements.filter((s) => s.kind === 'statement').map((s) => ({ id: s.id, total: s.total }))).toEqual(issued);
    const corrections = recomputed.statements.filter((s) => s.kind === 'correction');
    expect(corrections).toHaveLength(2);

    let shared = 0;
    for (let t = 0; t < quarters; t++) shared += t === 0 ? Math.min(importAt(0) + 1000, 1100) : Math.min(importAt(t), exportAt(t));
    const annaCorrection = await getStatement(db, admin, corrections.find((s) => s.memberId === c.members.anna!.memberId)!.id);
    expect(annaCorrection).toMatchObject({ kind: 'correction', sequence: 1, state: 'closed' });
    const before = await getStatement(db, admin, issued.find((s) => s.id === recomputed.statements.find((x) => x.memberId === c.members.anna!.memberId && x.kind === 'statement')!.id)!.id);
    // Issued + correction = what a fresh statement says, line by line, to the cent.
    const energyLine = annaCorrection.lines.find((l) => l.code === 'community-energy')!;
    expect(energyLine.energyWh).toBe(1000);
    expect(BigInt(Math.round(Number(before.lines[0]!.amount) * 100)) + BigInt(Math.round(Number(energyLine.amount) * 100))).toBe(cents(shared, 150_000n));
    const lineSum = annaCorrection.lines.reduce((sum, l) => sum + Math.round(Number(l.amount) * 100), 0);
    expect(Math.round(Number(annaCorrection.total) * 100)).toBe(lineSum);
    expect(annaCorrection.energy.fromCommunityWh).toBe(1000);

    // Recomputing again without new data issues no further correction.
    expect((await recomputeSettlement(db, admin, draft.id, events)).totals.corrections).toBe(2);
  });

  it('removes a community with closed settlements only as a whole', async () => {
    const other = await storeCommunity(db, ['solo']);
    await storeIntervals(db, other.id, other.members.solo!.pointId, { [range.startMs]: { importWh: 5, exportWh: 0 } });
    await runSharing(db);
    const s = await runSettlement(db, admin, other.id, period);
    await closeSettlement(db, admin, s.id, events, (await settlementGaps(db, admin, s.id)).missingQuarterHours);
    await db.query('DELETE FROM communities WHERE id = $1', [other.id]);
    expect(await db.query('SELECT 1 FROM statements WHERE settlement_id = $1', [s.id])).toEqual([]);
  });

  it('closes a month with missing quarter hours only when the manager confirms how many, named per metering point', async () => {
    const gappy = await storeCommunity(db, ['bert', 'carla']);
    const bertPoint = gappy.members.bert!.pointId;
    const carlaPoint = gappy.members.carla!.pointId;
    // Both points were registered long before; carla's never reported, bert's lacks the month's first 10 quarter hours.
    await db.query(`UPDATE metering_points SET created_at = '2020-01-01' WHERE community_id = $1`, [gappy.id]);
    const bert: Record<number, { importWh: number; exportWh: number }> = {};
    for (let t = 10; t < quarters; t++) bert[range.startMs + t * Q] = { importWh: 50, exportWh: 0 };
    await storeIntervals(db, gappy.id, bertPoint, bert);
    await runSharing(db);
    const draft = await runSettlement(db, admin, gappy.id, period);

    const gaps = await settlementGaps(db, admin, draft.id);
    expect(gaps).toMatchObject({ countedUntilMs: range.endMs, withDataQuarterHours: quarters - 10, missingQuarterHours: quarters + 10, noData: false });
    expect(gaps.points.map((p) => [p.meteringPointId, p.expectedQuarterHours, p.missingQuarterHours]).sort())
      .toEqual([[bertPoint, quarters, 10], [carlaPoint, quarters, quarters]].sort());

    // No confirmation, or one of another count (data changed since the manager looked): refused, nothing closed.
    await expect(closeSettlement(db, admin, draft.id, events)).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining(`misses ${quarters + 10} quarter hours`) });
    await expect(closeSettlement(db, admin, draft.id, events, 10)).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/: 10\b.*: 2980\b|: 2980\b.*: 10\b/) });
    expect((await getSettlement(db, admin, draft.id)).state).toBe('draft');
    expect((await closeSettlement(db, admin, draft.id, events, quarters + 10)).state).toBe('closed');
  });

  it('asks for a confirmation of a month with no data at all, and never closes the running month', async () => {
    const empty = await storeCommunity(db, ['dora']);
    await db.query(`UPDATE metering_points SET created_at = '2020-01-01' WHERE community_id = $1`, [empty.id]);
    const draft = await runSettlement(db, admin, empty.id, period);
    const gaps = await settlementGaps(db, admin, draft.id);
    expect(gaps).toMatchObject({ noData: true, withDataQuarterHours: 0, missingQuarterHours: quarters });
    await expect(closeSettlement(db, admin, draft.id, events)).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining(`${period} has no data`) });

    // The running month: its draft expects only the quarter hours that have passed, and it cannot be closed.
    const running = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Vienna', year: 'numeric', month: '2-digit' }).format(new Date());
    const before = Math.floor(Date.now() / Q) * Q;
    const current = await runSettlement(db, admin, empty.id, running);
    const after = Math.floor(Date.now() / Q) * Q;
    const dora = await getStatement(db, admin, current.statements[0]!.id);
    const start = monthRange(running, 'Europe/Vienna')!.startMs;
    expect(dora.quarterHours.expected).toBeGreaterThanOrEqual((before - start) / Q);
    expect(dora.quarterHours.expected).toBeLessThanOrEqual((after - start) / Q);
    expect(dora.quarterHours.missing).toBe(dora.quarterHours.expected);
    const runningGaps = await settlementGaps(db, admin, current.id);
    expect(runningGaps.countedUntilMs).toBeGreaterThanOrEqual(before);
    expect(runningGaps.countedUntilMs).toBeLessThan(monthRange(running, 'Europe/Vienna')!.endMs);
    await expect(closeSettlement(db, admin, current.id, events, runningGaps.missingQuarterHours)).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('has not ended') });
  });

  it('refuses periods that are not months or have not begun', async () => {
    for (const bad of ['2026-13', '2026-1', 'October', '']) await expect(runSettlement(db, admin, c.id, bad)).rejects.toMatchObject({ code: 'bad_request' });
    await expect(runSettlement(db, admin, c.id, `${new Date().getUTCFullYear() + 1}-01`)).rejects.toMatchObject({ code: 'bad_request' });
  });
});
