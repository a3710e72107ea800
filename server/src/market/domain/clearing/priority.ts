import type { ClearingOrder } from '../orders.js';

/**
 * Priority in the book: the better price first (bids high to low, offers low to high), then the
 * earlier submission, then the order id (compared by UTF-16 code units, so the same on every
 * machine and locale). Order ids are unique in a book, so the order is total: the same orders
 * always clear the same way, whatever order they arrive in.
 */
const byTimeThenId = (a: ClearingOrder, b: ClearingOrder): number =>
  a.submittedAtMs - b.submittedAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export const bidPriority = (a: ClearingOrder, b: ClearingOrder): number =>
  a.price > b.price ? -1 : a.price < b.price ? 1 : byTimeThenId(a, b);

export const offerPriority = (a: ClearingOrder, b: ClearingOrder): number =>
  a.price < b.price ? -1 : a.price > b.price ? 1 : byTimeThenId(a, b);

/** Arrival order for continuous matching: by submission time, then order id. */
export const arrivalOrder = byTimeThenId;
