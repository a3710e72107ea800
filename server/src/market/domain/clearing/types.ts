import type { Wh } from '../../../kernel/energy.js';
import type { MicroPrice, Nano } from '../../../kernel/money.js';
import type { ClearingOrder, CommunityPricing } from '../orders.js';

/** One match of a bid and an offer. A bid and an offer match at most once per clearing. */
export interface Trade {
  readonly buyOrderId: string;
  readonly sellOrderId: string;
  readonly buyerId: string;
  readonly sellerId: string;
  readonly energyWh: Wh;
  /** Per kWh, what the seller receives; the buyer pays this plus `gridFee`. */
  readonly price: MicroPrice;
  /** The community's grid fee per kWh when the trade was made. */
  readonly gridFee: MicroPrice;
}

/** What a mechanism decides for one slot. */
export interface Matching {
  readonly trades: readonly Trade[];
  /** The one price of every trade of the slot (uniform), or undefined where prices differ by trade. */
  readonly clearingPrice: MicroPrice | undefined;
}

export interface ClearingResult extends Matching {
  readonly mechanism: string;
  readonly volumeWh: Wh;
  /** Σ (bid − offer) × energy over the trades: the gains of buyers, sellers and the grid fee together. */
  readonly welfare: Nano;
  /** Σ gridFee × energy: what the trades owe the community's grid-fee account. */
  readonly gridFees: Nano;
}

/**
 * A clearing mechanism, registered by name. `match` receives a checked book: unique ids and
 * every order admissible under `pricing` (see orderProblems), so it only has to decide.
 */
export interface ClearingMechanism {
  readonly name: string;
  readonly summary: string;
  match(orders: readonly ClearingOrder[], pricing: CommunityPricing): Matching;
}
