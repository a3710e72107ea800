import { QUANTITY_UNITS, type Quantity, type Reading } from '../../../kernel/quantities.js';
import { FrameError, type DecodedFrame, type DecodeOptions, type MeterDecoder } from '../decoder.js';
import { dsmrTimestamp, parseTelegram, type DsmrLine } from '../dsmr/telegram.js';
import { scaledDecimal } from '../exact.js';
import { OBIS, UNIT_EXPONENT, obisKey } from '../obis.js';
import { registerDecoder } from '../registry.js';

/** The vocabulary unit each meter unit converts into (kWh → Wh, kW → W). */
const BASE_UNIT: Readonly<Record<string, string>> = {
  kWh: 'Wh', Wh: 'Wh', kW: 'W', W: 'W', kvarh: 'varh', varh: 'varh', kvar: 'var', var: 'var', V: 'V', A: 'A', Hz: 'Hz', m3: 'm3',
};

/** M-Bus device types (EN 13757-3 medium) on the P1 port's sub-meter channels. */
const MBUS_MEDIUM: Readonly<Record<number, Quantity>> = { 3: 'gas.volume', 4: 'heat.energy', 7: 'water.volume', 0x0c: 'heat.energy' };
const HEAT_WH: Readonly<Record<string, number>> = { GJ: 1e9 / 3600, MWh: 1e6, kWh: 1e3, Wh: 1 };

/** Meter-side facts worth keeping that have no quantity (tariff in force, power failures, …). */
const EXTRA: Readonly<Record<string, string>> = {
  '0.2.8': 'version', '96.14.0': 'tariff', '96.7.21': 'powerFailures', '96.7.9': 'longPowerFailures',
  '32.32.0': 'voltageSags.l1', '52.32.0': 'voltageSags.l2', '72.32.0': 'voltageSags.l3',
  '32.36.0': 'voltageSwells.l1', '52.36.0': 'voltageSwells.l2', '72.36.0': 'voltageSwells.l3',
  '96.3.10': 'breakerState', '17.0.0': 'powerLimit', '31.4.0': 'currentLimit',
};

/** OBIS codes of the P1 port that D0 readouts do not use: telegram time, DSMR version, equipment id, tariff indicator, text messages, power failures. */
const DSMR_ONLY = new Set(['0-0:1.0.0', '1-3:0.2.8', '0-0:96.1.1', '0-0:96.1.4', '0-0:96.14.0', '0-0:96.13.0', '0-0:96.13.1', '0-0:96.7.21', '0-0:96.7.9', '1-0:99.97.0']);
const isDsmrOnly = (obis: string) => DSMR_ONLY.has(obis) || /^0-[1-4]:24\./.test(obis);

function splitValue(raw: string): { number: string; unit: string | undefined } {
  const star = raw.indexOf('*');
  return star < 0 ? { number: raw, unit: undefined } : { number: raw.slice(0, star), unit: raw.slice(star + 1) };
}

function electricityReading(line: DsmrLine, ts: string): Reading | undefined {
  const mapping = OBIS[obisKey(line.obis)];
  if (!mapping || !line.obis.startsWith('1-')) return undefined;
  const { number, unit = mapping.meterUnit } = splitValue(line.values[0] ?? '');
  const target = QUANTITY_UNITS[mapping.quantity];
  if (BASE_UNIT[unit] !== target && !(unit === mapping.meterUnit && target === '1')) {
    throw new FrameError('format', `${line.obis} in ${unit}, expected ${mapping.meterUnit}`);
  }
  return { ts, quantity: mapping.quantity, value: scaledDecimal(number, UNIT_EXPONENT[unit] ?? 0), unit: target };
}

/** Readable meter ids are sent as hex-encoded ASCII. */
function equipmentId(hexText: string): string {
  if (hexText.length === 0 || hexText.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(hexText)) return hexText;
  const ascii = Buffer.from(hexText, 'hex').toString('latin1');
  return /^[\x20-\x7e]+$/.test(ascii) ? ascii : hexText;
}

interface Channel { medium?: number; id?: string; value?: { ts: Date; number: string; unit: string | undefined } }

function subMeterReading(channel: number, c: Channel): Reading | undefined {
  if (!c.value || c.id === '') return undefined;
  const quantity = c.medium !== undefined ? MBUS_MEDIUM[c.medium]
    : c.value.unit === 'm3' ? 'gas.volume' : c.value.unit && HEAT_WH[c.value.unit] ? 'heat.energy' : undefined;
  if (!quantity) return undefined;
  const ts = c.value.ts.toISOString();
  if (quantity === 'heat.energy') {
    const factor = HEAT_WH[c.value.unit ?? ''];
    if (!factor) throw new FrameError('format', `M-Bus channel ${channel}: heat in "${c.value.unit}"`);
    return { ts, quantity, value: Math.round(scaledDecimal(c.value.number) * factor), unit: 'Wh' };
  }
  if (c.value.unit !== undefined && c.value.unit !== 'm3') throw new FrameError('format', `M-Bus channel ${channel}: volume in "${c.value.unit}"`);
  return { ts, quantity, value: scaledDecimal(c.value.number), unit: 'm3' };
}

/**
 * Decodes a DSMR P1 telegram (Netherlands DSMR 2.2–5, Belgian e-MUCS, Luxembourg Smarty once
 * decrypted) into readings at the meter's own timestamp; sub-meters (gas, water, heat) on the
 * M-Bus channels keep theirs.
 */
export function decodeDsmr(frame: Uint8Array, options: DecodeOptions): DecodedFrame {
  const telegram = parseTelegram(frame, options);
  // An IEC 62056-21 (D0) readout looks the same ("/XXX5…", OBIS lines, "!"); a DSMR telegram
  // carries a CRC (DSMR 4 and later) or, before that, lines no D0 meter sends.
  if (!telegram.crc && !telegram.lines.some((l) => isDsmrOnly(l.obis))) {
    throw new FrameError('format', 'no CRC and none of the lines only DSMR sends (timestamp, version, equipment id, tariff indicator, M-Bus channel): not a DSMR telegram');
  }
  const stamp = telegram.lines.find((l) => l.obis === '0-0:1.0.0')?.values[0];
  const at = (stamp !== undefined ? dsmrTimestamp(stamp) : undefined) ?? options.receivedAt;
  if (!at) throw new FrameError('format', 'the telegram has no timestamp and no receive time was given');
  const ts = at.toISOString();
  const readings: Reading[] = [];
  const extra: Record<string, string | number> = { header: telegram.header };
  const channels = new Map<number, Channel>();
  let meterId: string | undefined;
  for (const line of telegram.lines) {
    const [, b, code] = /^\d+-(\d+):(.*)$/.exec(line.obis)!;
    const channel = Number(b);
    if (line.obis.startsWith('0-') && channel > 0) {
      const c = channels.get(channel) ?? {};
      channels.set(channel, c);
      if (code === '24.1.0') c.medium = Number(line.values[0]);
      else if (code === '96.1.0' || code === '96.1.1') c.id = equipmentId(line.values[0] ?? '');
      else if ((code === '24.2.1' || code === '24.2.3') && line.values.length >= 2) {
        const when = dsmrTimestamp(line.values[0]!);
        if (when) c.value = { ts: when, ...splitValue(line.values[1]!) };
      }
      continue;
    }
    if (code === '96.1.1' || code === '42.0.0') {
      meterId ??= equipmentId(line.values[0] ?? '');
      continue;
    }
    const reading = electricityReading(line, ts);
    if (reading) {
      readings.push(reading);
      continue;
    }
    const name = EXTRA[code!];
    if (name && line.values[0] !== undefined) {
      const { number, unit } = splitValue(line.values[0]);
      const numeric = /^-?\d+(\.\d+)?$/.test(number) ? Number(number) : number;
      extra[name] = unit ? `${number} ${unit}` : numeric;
    }
  }
  const seen = new Set<Quantity>();
  for (const [channel, c] of [...channels].sort(([a], [b]) => a - b)) {
    const reading = subMeterReading(channel, c);
    if (!reading) continue;
    // Readings are keyed by quantity and time: a second gas meter goes to `extra`, not over the first.
    if (seen.has(reading.quantity)) extra[`mbus${channel}.${reading.quantity}`] = reading.value;
    else readings.push(reading);
    seen.add(reading.quantity);
    if (c.id) extra[`mbus${channel}.id`] = c.id;
  }
  if (readings.length === 0) throw new FrameError('format', 'the telegram holds no reading Gridshare knows');
  return { format: 'dsmr', meterId, readings, extra };
}

export const dsmr: MeterDecoder = {
  name: 'dsmr',
  detect: (frame) => frame[0] === 0x2f && /^\/[A-Za-z]{3}/.test(Buffer.from(frame.subarray(0, 4)).toString('latin1')) && frame.includes(0x21),
  decode: decodeDsmr,
};

registerDecoder(dsmr);
