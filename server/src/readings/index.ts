/** readings: the public surface other capabilities and the composition root use. */
export { MESSAGE_LIMITS, MessageRejected, parseReadingsMessage, validateReadings } from './message.js';
