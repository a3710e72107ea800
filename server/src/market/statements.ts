import type { Queryable } from '../platform/store/db.js';
import { statementRows } from './store.js';
import type { Nano } from '../kernel/money.js';
import type { SettlementLineKind } from './domain/settlement.js';
import { walletMember } from './domain/ledger.js';

/** What a member's statement shows of the market: settlement lines by kind, and disputes decided in their favour. */
export type MarketStatementKind = SettlementLineKind | 'dispute-correction';

export interface MarketStatementLine {
  readonly kind: MarketStatementKind;
  /** A correction: settlement runs after late meter data, or a dispute's correcting posting. */
  readonly correction: boolean;
  /** Σ Wh of the lines (a correction's may be negative; 0 for a dispute). */
  readonly energyWh: number;
  /** Σ exact nano-units, + when the member receives (the market's sign). */
  readonly amount: Nano;
  /** Slots (or disputes) the line sums. */
  readonly count: number;
}

export interface MarketStatementFacts {
  /** Quarter hours the market settled for the member (they traded in the slot): the market prices all of their energy there. */
  readonly settledSlotsMs: readonly number[];
  readonly lines: readonly MarketStatementLine[];
}

/**
 * Per member, the market's part of a period's statement: every settlement line of the slots in
 * [fromMs, toMs) summed by kind, the settlement (run 0) apart from its corrections, and the
 * dispute corrections posted to their wallet in the period. Exact: nothing is rounded here.
 */
export async function marketStatementFacts(db: Queryable, communityId: string, fromMs: number, toMs: number): Promise<Map<string, MarketStatementFacts>> {
  const { sums, slots, disputes } = await statementRows(db, communityId, fromMs, toMs);
  const facts = new Map<string, { settledSlotsMs: number[]; lines: MarketStatementLine[] }>();
  const of = (memberId: string) => {
    let entry = facts.get(memberId);
    if (!entry) facts.set(memberId, (entry = { settledSlotsMs: [], lines: [] }));
    return entry;
  };
  for (const row of slots) of(row.member_id).settledSlotsMs.push(row.slot_start.getTime());
  for (const row of sums) {
    of(row.member_id).lines.push({ kind: row.kind, correction: row.correction, energyWh: Number(row.energy_wh), amount: BigInt(row.amount), count: row.count });
  }
  const disputed = new Map<string, { amount: Nano; count: number }>();
  for (const row of disputes) {
    for (const [account, sign] of [[row.credit, 1n], [row.debit, -1n]] as const) {
      const memberId = walletMember(account);
      if (!memberId) continue;
      const sum = disputed.get(memberId) ?? { amount: 0n, count: 0 };
      disputed.set(memberId, { amount: sum.amount + sign * BigInt(row.amount), count: sum.count + row.count });
    }
  }
  for (const [memberId, { amount, count }] of disputed) of(memberId).lines.push({ kind: 'dispute-correction', correction: true, energyWh: 0, amount, count });
  return facts;
}
