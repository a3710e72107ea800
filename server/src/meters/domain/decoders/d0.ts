import { QUANTITY_UNITS, type Quantity, type Reading } from '../../../kernel/quantities.js';
import { parseD0Readout, identificationLine, MAX_READOUT, type D0DataSet } from '../d0/readout.js';
import { unitConversion } from '../d0/values.js';
import { exactValue, parseDecimal } from '../exact.js';
import { FrameError, type DecodedFrame, type DecodeOptions, type MeterDecoder } from '../decoder.js';
import { OBIS } from '../obis.js';
import { registerDecoder } from '../registry.js';

/** "A-B:C.D.E*F" with A-B: and E and the billing period (*F or &F) optional; C may be a letter. */
const ADDRESS = /^(?:(\d{1,3})-(\d{1,3}):)?([0-9A-Z]{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?(?:[*&](\d{1,3}))?$/;

/** Identity data sets: device address 0.0.0, serial numbers 96.1.0 and C.1.0. */
const METER_ID_CODES: readonly string[] = ['0.0.0', '96.1.0', 'C.1.0'];

/** A negative import power is export (some meters send 1.7.0 signed). */
const EXPORT_OF: Partial<Record<Quantity, Quantity>> = {
  'power.import': 'power.export',
  'power.import.l1': 'power.export.l1',
  'power.import.l2': 'power.export.l2',
  'power.import.l3': 'power.export.l3',
};

interface Address {
  readonly a?: string | undefined;
  /** "C.D.E", or "C.D" for the short codes of heat meters. */
  readonly code: string;
  /** The billing period: absent or 255 for current values. */
  readonly f?: number | undefined;
}

function parseAddress(address: string): Address | undefined {
  const m = ADDRESS.exec(address);
  if (!m) return undefined;
  return { a: m[1], code: m[5] === undefined ? `${m[3]}.${m[4]}` : `${m[3]}.${m[4]}.${m[5]}`, f: m[6] === undefined ? undefined : Number(m[6]) };
}

/** The first value of a data set, before any "&": its number and unit ("0029.055*MWh"). */
function firstValue(set: D0DataSet): { number: string; unit: string | undefined } {
  const raw = (set.values[0] ?? '').split('&')[0]!;
  const star = raw.indexOf('*');
  return star < 0 ? { number: raw, unit: undefined } : { number: raw.slice(0, star), unit: raw.slice(star + 1) };
}

function rawText(set: D0DataSet): string {
  return set.values.length === 1 ? set.values[0]! : set.values.map((v) => `(${v})`).join('');
}

/**
 * The readings of one current data set. Electricity (A absent or 1) maps through the OBIS table,
 * in the value's own unit (kWh, kW, V …; the table's unit when the meter writes none) converted
 * exactly into the vocabulary's. Heat meters (Siemens/Landis+Gyr 2WR5, UH50) name their energy
 * register by the short code "6.8", in MWh, kWh, GJ or MJ.
 */
function readingOf(address: Address, set: D0DataSet): [Quantity, number] | undefined {
  const { number, unit } = firstValue(set);
  const decimal = parseDecimal(number);
  if (!decimal) return undefined;
  if (address.code === '6.8' && address.a === undefined) {
    const conversion = unit === undefined ? undefined : unitConversion(unit);
    if (conversion?.unit !== 'Wh' || decimal.mantissa < 0n) return undefined;
    return ['heat.energy', exactValue(decimal.mantissa, decimal.exponent + conversion.exponent, conversion.divisor)];
  }
  if (address.a !== undefined && address.a !== '1') return undefined;
  const mapping = OBIS[address.code];
  if (!mapping) return undefined;
  const target = QUANTITY_UNITS[mapping.quantity];
  const conversion = unitConversion(unit ?? mapping.meterUnit);
  if (target === '1') {
    if (unit !== undefined) return undefined;
    return [mapping.quantity, exactValue(decimal.mantissa, decimal.exponent)];
  }
  if (conversion?.unit !== target || conversion.divisor !== undefined) return undefined;
  const value = exactValue(decimal.mantissa, decimal.exponent + conversion.exponent);
  if (value >= 0) return [mapping.quantity, value];
  const exported = EXPORT_OF[mapping.quantity];
  return exported ? [exported, -value] : undefined;
}

/**
 * IEC 62056-21 data readout (the optical "D0" interface), mode C readout with BCC or mode D push.
 * Current values the vocabulary knows become readings at the receive time (a readout carries no
 * usable clock); everything else, historical values (billing period F ≠ 255) included, goes to
 * `extra` as the meter wrote it, under its address.
 */
export function decodeD0(frame: Uint8Array, options: DecodeOptions): DecodedFrame {
  const readout = parseD0Readout(frame, options.ignoreCrc ?? false);
  if (!options.receivedAt) throw new FrameError('format', 'a D0 readout carries no clock: a receive time is needed');
  const ts = options.receivedAt.toISOString();
  const readings: Reading[] = [];
  const seen = new Set<Quantity>();
  const extra: Record<string, string | number> = {};
  const ids = new Map<string, { address: string; id: string }>();
  for (const set of readout.dataSets) {
    const address = parseAddress(set.address);
    const current = address !== undefined && (address.f === undefined || address.f === 255);
    if (address && current && (METER_ID_CODES.includes(address.code) || (address.code === '0.0' && address.a === undefined))) {
      if (!ids.has(address.code) && set.values[0]) {
        ids.set(address.code, { address: set.address, id: set.values[0] });
        continue;
      }
    }
    const reading = address && current ? readingOf(address, set) : undefined;
    if (!reading || seen.has(reading[0])) {
      extra[set.address] = rawText(set);
      continue;
    }
    seen.add(reading[0]);
    readings.push({ ts, quantity: reading[0], value: reading[1], unit: QUANTITY_UNITS[reading[0]] });
  }
  if (readings.length === 0) throw new FrameError('format', 'the readout holds no reading Gridshare knows');
  extra.identification = readout.identification;
  extra.manufacturer = readout.manufacturer;
  // The first identity by precedence is the meter id; the others stay in `extra`.
  const chosen = [...METER_ID_CODES, '0.0'].map((code) => ids.get(code)).find((id) => id !== undefined);
  for (const other of ids.values()) if (other !== chosen) extra[other.address] = other.id;
  return { format: 'd0', meterId: chosen?.id, readings, extra };
}

/** Lines only DSMR P1 telegrams carry (version, timestamp, tariff indicator, M-Bus channels). */
const DSMR_LINE = /(?:^|\n)(?:1-3:0\.2\.8\(|0-0:1\.0\.0\(\d{12}[SW]\)|0-0:96\.14\.0\(|0-[1-4]:24\.[12]\.\d\()/;

/**
 * A frame is D0 when it begins with an identification line "/XXXZ…" and is not DSMR: DSMR P1
 * telegrams begin the same way, but end in "!" and (up to) four hex digits of CRC and carry DSMR-only
 * lines. (The DSMR decoder is tried first anyway; this keeps D0 off DSMR telegrams it refused.)
 */
function detectD0(frame: Uint8Array): boolean {
  if (frame.length > MAX_READOUT || !identificationLine(frame)) return false;
  const text = Buffer.from(frame).toString('latin1');
  // DSMR sends its CRC as 1-4 hex digits right after "!" (some without zero padding).
  if (/![0-9A-Fa-f]{1,4}(?:\r?\n|$)/.test(text)) return false;
  return !DSMR_LINE.test(text);
}

export const d0: MeterDecoder = {
  name: 'd0',
  detect: detectD0,
  decode: decodeD0,
};

registerDecoder(d0);
