/**
 * The market's money in the verifiable record (issue 19): every wallet movement (posting) and
 * every settlement line and member position, as records in RFC 8785 canonical JSON. A batch of
 * records (a settlement run's lines, the postings one transaction entered) is logged as one entry
 * holding the RFC 6962 root of a Merkle tree over its records, so a day of a 200-member market
 * is a handful of entries, not one per line — and still each record is provable on its own: the
 * record, its inclusion proof in the batch's tree, and the entry's inclusion proof in the log.
 *
 * Members appear as salted commitments (the same as in `market.trade` entries), never by id;
 * amounts are exact decimal strings in the community's currency, energy whole Wh, prices per kWh.
 * Anyone given the records of a batch recomputes its root; anyone given a member's postings
 * recomputes their wallet's balance.
 */
import type { Computation } from './computation.js';
import { leafHash, verifyInclusion, type Hash } from './merkle.js';

export const MARKET_RECORD_VERSION = 1;

/** A posting of the community's double-entry ledger: money from `debit` to `credit`. */
export interface MovementRecord {
  readonly v: typeof MARKET_RECORD_VERSION;
  readonly type: 'movement';
  readonly community: string;
  /** The posting's sequence in the community's ledger (1, 2, …: gapless). */
  readonly sequence: number;
  readonly at: string;
  /** top-up, settlement, settlement-correction, payout, dispute-correction, transfer. */
  readonly kind: string;
  /** `wallet:<member commitment>` or a community account (`community:clearing`, …). */
  readonly debit: string;
  readonly credit: string;
  /** > 0, exact decimal in the currency. */
  readonly amount: string;
  readonly currency: string;
  /**
   * What it pays: the (first) slot, the settlement line kind and, when it pays exactly one, the
   * trade (`<slot ms>-<position>`, as `market.trade` entries name it).
   */
  readonly slot?: string;
  /**
   * A settlement or settlement-correction posting entered since the market pays a member's lines
   * per kind (market's migration 0230): the end of the last slot it pays (its period is `slot` …
   * `slotEnd`) and how many settlement lines it nets — all of the member's lines of that `line` kind
   * in the settlement run's batch, which the `market.settlement` entries of those slots hold one by
   * one. A dispute correction carries its disputed posting's period. Absent from older postings
   * (each paid one line) and from the others.
   */
  readonly slotEnd?: string;
  readonly lines?: number;
  readonly line?: string;
  readonly trade?: string;
  /** A dispute's correcting posting: the posting it corrects and the dispute. */
  readonly corrects?: number;
  readonly dispute?: string;
  /** Top-ups, payouts, transfers: SHA-256 of the payment's reference (free text, so not itself). */
  readonly referenceSha256?: string;
}

/** A member's settlement line of a slot (run 0: the settlement; 1, 2, …: corrections after late data). */
export interface LineRecord {
  readonly v: typeof MARKET_RECORD_VERSION;
  readonly type: 'line';
  readonly community: string;
  readonly slot: string;
  readonly run: number;
  readonly member: string;
  readonly kind: string;
  /** Whole Wh; negative in a correction that takes energy back. */
  readonly energyWh: string;
  /** Per kWh, exact decimal. */
  readonly price: string;
  /** Signed for the member (+ receives), exact decimal. */
  readonly amount: string;
  readonly currency: string;
  readonly trade?: string;
}

/** A trading member's position in a slot as settled by a run: metered net against traded net (imbalance = their difference). */
export interface PositionRecord {
  readonly v: typeof MARKET_RECORD_VERSION;
  readonly type: 'position';
  readonly community: string;
  readonly slot: string;
  readonly run: number;
  readonly member: string;
  /** Export − import, whole Wh. */
  readonly meteredNetWh: string;
  /** Sold − bought, whole Wh. */
  readonly tradedNetWh: string;
}

export type MarketRecord = MovementRecord | LineRecord | PositionRecord;

/** Checks that `record` is record `index` of a batch of `size` whose entry holds `root`; throws a ProofError otherwise. */
export function* verifyBatchInclusion(record: Uint8Array, index: number, size: number, proof: readonly Hash[], root: Hash): Computation<void> {
  yield* verifyInclusion(index, size, yield* leafHash(record), proof, root);
}
