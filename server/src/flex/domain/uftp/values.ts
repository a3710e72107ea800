import { formatFixed, parseDecimal, toFixedUnits, trimDecimal } from '../../../kernel/decimal.js';
import type { Nano } from '../../../kernel/money.js';
import { formatUtcInstant } from '../../../kernel/time.js';
import { UftpEncodeError } from './errors.js';

/**
 * The UFTP attribute types (XSD simple types) as typed values: how each is read from text and
 * written back. `parse` returns undefined for text the type does not accept; `format` throws a
 * UftpEncodeError for a value it cannot carry, so Gridshare never writes an invalid message.
 */
export interface ValueType<T> {
  readonly describe: string;
  parse(text: string): T | undefined;
  format(value: T): string;
}

function pattern(describe: string, regex: RegExp, normalise: (text: string) => string = (t) => t): ValueType<string> {
  const check = (text: string) => (regex.test(text) ? normalise(text) : undefined);
  return {
    describe,
    parse: check,
    format(value) {
      const ok = check(value);
      if (ok === undefined) throw new UftpEncodeError(`not ${describe}: ${JSON.stringify(value)}`);
      return ok;
    },
  };
}

export const text: ValueType<string> = { describe: 'a string', parse: (t) => t, format: (v) => v };

/** RFC 4122 UUIDs, compared case-insensitively, so kept lower-case. */
export const uuid = pattern('a UUID', /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/, (t) => t.toLowerCase());
export const internetDomain = pattern('an internet domain', /^([a-z0-9]+(-[a-z0-9]+)*\.)+[a-z]{2,}$/);
/** USEF entity address: `ea1.<yyyy-mm>.<reversed domain>:<local id>` or `ean.<12–34 digits>`. */
export const entityAddress = pattern('an entity address', /^(ea1\.[0-9]{4}-[0-9]{2}\..{1,244}:.{1,244}|ean\.[0-9]{12,34})$/);
export const specVersion = pattern('a version x.y.z', /^\d+\.\d+\.\d+$/);
export const timeZoneName = pattern('a time zone name', /^(Africa|America|Australia|Europe|Pacific)\/[a-zA-Z0-9_/]{3,}$/);
export const currency = pattern('an ISO 4217 currency', /^[A-Z]{3}$/);
export const ean = pattern('an EAN', /^[Ee][0-9]{16}$/);

export function oneOf<const V extends string>(values: readonly V[]): ValueType<V> {
  const allowed: ReadonlySet<string> = new Set(values);
  const describe = `one of ${values.join(', ')}`;
  return {
    describe,
    parse: (t) => (allowed.has(t) ? (t as V) : undefined),
    format(v) {
      if (!allowed.has(v)) throw new UftpEncodeError(`not ${describe}: ${JSON.stringify(v)}`);
      return v;
    },
  };
}

export const boolean: ValueType<boolean> = {
  describe: 'a boolean',
  parse: (t) => (t === 'true' || t === '1' ? true : t === 'false' || t === '0' ? false : undefined),
  format: (v) => (v ? 'true' : 'false'),
};

/** xs:integer / xs:long as a JavaScript number: powers in W and revisions never approach 2^53. */
function integerType(describe: string, min: number): ValueType<number> {
  const parse = (t: string) => {
    if (!/^[+-]?\d{1,16}$/.test(t)) return undefined;
    const n = Number(t);
    return Number.isSafeInteger(n) && n >= min ? (n === 0 ? 0 : n) : undefined;
  };
  return {
    describe,
    parse,
    format(v) {
      if (!Number.isSafeInteger(v) || v < min) throw new UftpEncodeError(`not ${describe}: ${v}`);
      return String(v);
    },
  };
}
export const integer = integerType('an integer', Number.MIN_SAFE_INTEGER);
export const positiveInteger = integerType('a positive integer', 1);

/** xs:date without a zone, `2021-10-30`: a Period is a local calendar day in the message's TimeZone. */
export type LocalDate = string;
export const localDate: ValueType<LocalDate> = {
  describe: 'a date yyyy-mm-dd',
  parse: (t) => (isLocalDate(t) ? t : undefined),
  format(v) {
    if (!isLocalDate(v)) throw new UftpEncodeError(`not a date yyyy-mm-dd: ${JSON.stringify(v)}`);
    return v;
  },
};

export function isLocalDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(year, month - 1, day);
  const d = new Date(ms);
  return month >= 1 && month <= 12 && d.getUTCDate() === day && d.getUTCMonth() === month - 1;
}

/**
 * xs:dateTime with a zone (the specification requires one) as UTC milliseconds. Fractions
 * beyond milliseconds (.NET writes seven digits) are cut, not rounded: an instant is never
 * moved past the one the sender wrote.
 */
export const dateTime: ValueType<number> = {
  describe: 'a date-time with a time zone',
  parse: parseDateTime,
  format(v) {
    if (!Number.isSafeInteger(v)) throw new UftpEncodeError(`not an instant: ${v}`);
    return formatUtcInstant(v);
  },
};

function parseDateTime(t: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):(\d{2}))$/.exec(t);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (!isLocalDate(`${m[1]}-${m[2]}-${m[3]}`) || minute > 59 || second > 59) return undefined;
  if (hour > 24 || (hour === 24 && (minute !== 0 || second !== 0 || /[1-9]/.test(m[7] ?? '')))) return undefined;
  const millis = Number((m[7] ?? '').slice(0, 3).padEnd(3, '0'));
  let offsetMinutes = 0;
  if (m[8] !== 'Z') {
    const [oh, om] = [Number(m[10]), Number(m[11])];
    if (oh > 14 || om > 59 || (oh === 14 && om !== 0)) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}

/** xs:duration of whole minutes (ISP-Duration), e.g. PT15M, PT1H; years and months are not fixed lengths and are refused. */
export const minutesDuration: ValueType<number> = {
  describe: 'a duration of whole minutes',
  parse(t) {
    const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(t);
    if (!m || t === 'P' || t.endsWith('T')) return undefined;
    const seconds = Number(m[4] ?? 0);
    if (seconds % 60 !== 0) return undefined;
    const minutes = Number(m[1] ?? 0) * 1440 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) + seconds / 60;
    return Number.isSafeInteger(minutes) && minutes > 0 ? minutes : undefined;
  },
  format(v) {
    if (!Number.isSafeInteger(v) || v <= 0) throw new UftpEncodeError(`not a duration in minutes: ${v}`);
    return `PT${v}M`;
  },
};

/** xs:decimal's lexical forms ("5.", ".5", "+1") in the form parseDecimal reads. */
function decimalText(t: string): string {
  return t.replace(/^([+-]?)\./, '$10.').replace(/\.$/, '');
}

export const NANO_PER_AMOUNT_UNIT = 100_000n; // 10^-4 of the currency, the finest CurrencyAmountType carries

/** CurrencyAmountType (a decimal with at most 4 places) as exact nano-units (kernel money). */
export const currencyAmount: ValueType<Nano> = {
  describe: 'an amount with at most 4 decimals',
  parse(t) {
    const decimal = /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(t) ? parseDecimal(decimalText(t), { integerDigits: 18, fractionDigits: 4 }) : undefined;
    return decimal ? toFixedUnits(decimal, 9) : undefined;
  },
  format(v) {
    if (v % NANO_PER_AMOUNT_UNIT !== 0n) throw new UftpEncodeError(`an amount with more than 4 decimals: ${formatFixed(v, 9)}`);
    return trimDecimal(formatFixed(v / NANO_PER_AMOUNT_UNIT, 4));
  },
};

/** Rounds exact nano-units to the 4 decimals UFTP carries, half away from zero. */
export function roundToAmount(v: Nano): Nano {
  const half = NANO_PER_AMOUNT_UNIT / 2n;
  const magnitude = v < 0n ? -v : v;
  const rounded = ((magnitude + half) / NANO_PER_AMOUNT_UNIT) * NANO_PER_AMOUNT_UNIT;
  return v < 0n ? -rounded : rounded;
}

/** ActivationFactorType (0.01–1.00, 2 places) as whole hundredths, 1–100. */
export type Hundredths = number;
export const activationFactor: ValueType<Hundredths> = {
  describe: 'an activation factor 0.01–1.00',
  parse(t) {
    const decimal = /^[+]?(\d+(\.\d*)?|\.\d+)$/.test(t) ? parseDecimal(decimalText(t), { integerDigits: 3, fractionDigits: 2 }) : undefined;
    const hundredths = decimal ? Number(toFixedUnits(decimal, 2)) : undefined;
    return hundredths !== undefined && hundredths >= 1 && hundredths <= 100 ? hundredths : undefined;
  },
  format(v) {
    if (!Number.isInteger(v) || v < 1 || v > 100) throw new UftpEncodeError(`not an activation factor in hundredths: ${v}`);
    return formatFixed(BigInt(v), 2);
  },
};

export const metered: ValueType<string> = pattern('a decimal', /^[+-]?(\d+(\.\d*)?|\.\d+)$/);
