/** readings: the public surface other capabilities and the composition root use. */
export { MESSAGE_LIMITS, MessageRejected, parseReadingsMessage, validateReadings } from './message.js';
export { CUMULATIVE_QUANTITIES, QUANTITY_UNITS, type Quantity, type Reading, SIGNED_QUANTITIES, type Unit, isQuantity } from './quantities.js';
