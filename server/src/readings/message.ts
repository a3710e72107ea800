import { QUANTITY_RANGES, QUANTITY_UNITS, SIGNED_QUANTITIES, isQuantity, type Reading } from '../kernel/quantities.js';

/** Limits on one message from a device, over MQTT or HTTP. */
export const MESSAGE_LIMITS = {
  maxBytes: 128 * 1024,
  maxReadings: 1_000,
  /** Meter clocks drift; anything further ahead than this is a wrong clock or a forgery. */
  maxFutureMs: 5 * 60_000,
  /** Late data is welcome, but not from before the platform could have known the device. */
  maxAgeMs: 400 * 86_400_000,
} as const;

export type RejectionCode =
  | 'too-large'
  | 'malformed-json'
  | 'bad-shape'
  | 'unknown-quantity'
  | 'wrong-unit'
  | 'bad-value'
  | 'out-of-range'
  | 'bad-timestamp'
  | 'future-timestamp'
  | 'too-old'
  | 'register-backwards'
  | 'bad-frame';

/** Why a message was refused; nothing of a refused message is stored. */
export class MessageRejected extends Error {
  constructor(readonly code: RejectionCode, message: string) {
    super(message);
  }
}

// ISO 8601 with an explicit offset: a timestamp without one would be read in the server's zone.
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/;

/** Date.parse rolls 30 February over to March; a meter reporting it has a broken clock. */
function isCalendarValid(match: RegExpExecArray): boolean {
  const [, year, month, day, hour, minute, second, , offsetHours, offsetMinutes] = match.map(Number) as number[];
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  return month! >= 1 && month! <= 12 && day! >= 1 && day! <= daysInMonth && hour! <= 23 && minute! <= 59
    && (Number.isNaN(second) || second! <= 59) && (Number.isNaN(offsetHours) || (offsetHours! <= 14 && offsetMinutes! <= 59));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseReading(raw: unknown, index: number, now: number): Reading {
  const at = `readings/${index}`;
  if (!isRecord(raw)) throw new MessageRejected('bad-shape', `${at}: must be an object {ts, quantity, value, unit}`);
  const extra = Object.keys(raw).filter((key) => !['ts', 'quantity', 'value', 'unit'].includes(key));
  if (extra.length > 0) throw new MessageRejected('bad-shape', `${at}/${extra[0]}: unknown field`);
  const { ts, quantity, value, unit } = raw;
  if (typeof quantity !== 'string' || !isQuantity(quantity)) {
    throw new MessageRejected('unknown-quantity', `${at}/quantity: unknown quantity ${JSON.stringify(quantity)}`);
  }
  const expectedUnit = QUANTITY_UNITS[quantity];
  if (unit !== expectedUnit) {
    throw new MessageRejected('wrong-unit', `${at}/unit: ${quantity} is measured in ${expectedUnit}, got ${JSON.stringify(unit)}`);
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new MessageRejected('bad-value', `${at}/value: must be a finite number`);
  }
  if (value < 0 && !SIGNED_QUANTITIES.has(quantity)) {
    throw new MessageRejected('bad-value', `${at}/value: ${quantity} cannot be negative`);
  }
  const range = QUANTITY_RANGES[quantity];
  if (value < range.min || value > range.max) {
    throw new MessageRejected('out-of-range',
      `${at}/value: ${value} ${expectedUnit} is outside the physical range of ${quantity} (${range.min} to ${range.max} ${expectedUnit})`);
  }
  const match = typeof ts === 'string' ? ISO_INSTANT.exec(ts) : null;
  if (typeof ts !== 'string' || !match) {
    throw new MessageRejected('bad-timestamp', `${at}/ts: must be an ISO 8601 instant with Z or an offset`);
  }
  const instant = Date.parse(ts);
  if (Number.isNaN(instant) || !isCalendarValid(match)) throw new MessageRejected('bad-timestamp', `${at}/ts: not a valid date`);
  if (instant > now + MESSAGE_LIMITS.maxFutureMs) {
    throw new MessageRejected('future-timestamp', `${at}/ts: ${ts} is in the future (device clock?)`);
  }
  if (instant < now - MESSAGE_LIMITS.maxAgeMs) throw new MessageRejected('too-old', `${at}/ts: ${ts} is older than 400 days`);
  return { ts: new Date(instant).toISOString(), quantity, value, unit: expectedUnit };
}

/**
 * Parses and validates one device message `{"readings": [{ts, quantity, value, unit}, …]}`.
 * All or nothing: one bad reading refuses the whole message, so a device never has to
 * guess which part was stored.
 */
export function parseReadingsMessage(payload: string | Uint8Array, now: number = Date.now()): Reading[] {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > MESSAGE_LIMITS.maxBytes) throw new MessageRejected('too-large', `message of ${size} bytes exceeds ${MESSAGE_LIMITS.maxBytes}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch (error) {
    throw new MessageRejected('malformed-json', `malformed JSON: ${(error as Error).message}`);
  }
  return validateReadings(parsed, now);
}

/** The same checks for a body that is already parsed (HTTP). */
export function validateReadings(parsed: unknown, now: number = Date.now()): Reading[] {
  if (!isRecord(parsed) || !Array.isArray(parsed.readings)) {
    throw new MessageRejected('bad-shape', 'a message is an object {"readings": [...]}');
  }
  const extra = Object.keys(parsed).filter((key) => key !== 'readings');
  if (extra.length > 0) throw new MessageRejected('bad-shape', `${extra[0]}: unknown field`);
  const raw = parsed.readings;
  if (raw.length === 0 || raw.length > MESSAGE_LIMITS.maxReadings) {
    throw new MessageRejected('bad-shape', `readings: 1 to ${MESSAGE_LIMITS.maxReadings} per message`);
  }
  return raw.map((reading, index) => parseReading(reading, index, now));
}
