/** Clearing: pure, no I/O. Importing this module registers every mechanism. */
import './uniform.js';
import './pay-as-bid.js';

export * from './types.js';
export { clearSlot, bookProblems, getMechanism, mechanismNames, registerMechanism, type BookProblem } from './registry.js';
export { bidPriority, offerPriority, arrivalOrder } from './priority.js';
export { matchUniform } from './uniform.js';
export { submitOrder, replayOrders, matchPayAsBid, EMPTY_BOOK, type OrderBook, type RestingOrder } from './pay-as-bid.js';
