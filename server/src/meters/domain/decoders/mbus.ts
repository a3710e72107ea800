import { type Quantity, type Reading, SIGNED_QUANTITIES, QUANTITY_UNITS } from '../../../kernel/quantities.js';
import { FrameError, type DecodedFrame, type DecodeOptions, type MeterDecoder } from '../decoder.js';
import { mbusLongFrame } from '../dlms/mbus-transport.js';
import { mbusHeader, mbusRecords, type MbusRecord } from '../mbus/records.js';
import { registerDecoder } from '../registry.js';

const CI_LONG_HEADER = 0x72;
const CI_SHORT_HEADER = 0x7a;
/** RSP_UD: function 8, with any ACD/DFC bits. */
const isRspUd = (control: number) => (control & 0xcf) === 0x08;
const MEDIUM = { electricity: 0x02, gas: 0x03, heatOutlet: 0x04, warmWater: 0x06, water: 0x07, heatInlet: 0x0c, hotWater: 0x15, coldWater: 0x16 } as const;
/** VIFE E011 1011 / E011 1100: accumulation of positive contributions only / of the absolute value of negative ones. */
const FORWARD = 0x3b;
const BACKWARD = 0x3c;

type Medium = 'electricity' | 'gas' | 'water' | 'heat';

function mediumOf(code: number | undefined, records: readonly MbusRecord[]): Medium | undefined {
  switch (code) {
    case MEDIUM.electricity: return 'electricity';
    case MEDIUM.gas: return 'gas';
    case MEDIUM.water: case MEDIUM.warmWater: case MEDIUM.hotWater: case MEDIUM.coldWater: return 'water';
    case MEDIUM.heatOutlet: case MEDIUM.heatInlet: return 'heat';
    case undefined:
      // A short header names no medium; only voltages and currents say "electricity" for sure.
      return records.some((r) => r.kind === 'voltage-v' || r.kind === 'current-a') ? 'electricity' : undefined;
    default: return undefined;
  }
}

/** A current value: instantaneous, storage 0, no subunit. */
const isCurrent = (r: MbusRecord) => r.function === 'instantaneous' && r.storage === 0 && r.subunit === 0 && typeof r.value === 'number';
const direction = (r: MbusRecord): 'import' | 'export' | undefined =>
  r.vife.length === 0 || (r.vife.length === 1 && r.vife[0] === FORWARD) ? 'import' : r.vife.length === 1 && r.vife[0] === BACKWARD ? 'export' : undefined;

/** Which quantity a record is, for a meter of the medium; undefined keeps it in `extra`. */
function quantityOf(r: MbusRecord, medium: Medium, phases: Map<MbusRecord, number>): { quantity: Quantity; divisor: number } | undefined {
  if (!isCurrent(r)) return undefined;
  const dir = direction(r);
  if (medium === 'electricity') {
    if (r.kind === 'energy-wh' && dir && r.tariff <= 2) return { quantity: `energy.${dir}${r.tariff === 0 ? '' : `.t${r.tariff}`}` as Quantity, divisor: 1 };
    if (r.kind === 'power-w' && dir && r.tariff === 0) return { quantity: `power.${dir}`, divisor: 1 };
    const phase = phases.get(r);
    if (phase !== undefined) return { quantity: `${r.kind === 'voltage-v' ? 'voltage' : 'current'}.l${phase}` as Quantity, divisor: 1 };
    return undefined;
  }
  if (r.tariff !== 0 || dir !== 'import') return undefined;
  if (medium === 'gas' && r.kind === 'volume-m3') return { quantity: 'gas.volume', divisor: 1 };
  if (medium === 'water' && r.kind === 'volume-m3') return { quantity: 'water.volume', divisor: 1 };
  if (medium === 'heat' && r.kind === 'energy-wh') return { quantity: 'heat.energy', divisor: 1 };
  if (medium === 'heat' && r.kind === 'energy-j') return { quantity: 'heat.energy', divisor: 3600 };
  return undefined;
}

/**
 * Wired M-Bus meters (EN 13757-3 RSP_UD, CI 0x72 with the long header or 0x7A with the short
 * one): electricity, gas, water and heat sub-meters. The first current value (instantaneous,
 * storage 0) of each quantity becomes a reading: energy (tariffs 1 and 2 as t1/t2, VIFE 0x3C as
 * export) and power for electricity, the first three voltages and currents as phases L1–L3 in
 * record order, the volume of gas and water meters, the energy of heat meters. Everything else
 * (history, maxima, manufacturer data, identification) is `extra`. M-Bus time points are local
 * times of unknown zone, so readings take the receive time and the meter's time is kept aside.
 */
export function decodeMbus(frame: Uint8Array, options: DecodeOptions): DecodedFrame {
  const f = mbusLongFrame(frame, 0, options.ignoreCrc ?? false);
  if (f.length !== frame.length) throw new FrameError('format', `${frame.length - f.length} bytes after the M-Bus frame`);
  if (f.ci !== CI_LONG_HEADER && f.ci !== CI_SHORT_HEADER) throw new FrameError('unsupported', `M-Bus CI 0x${f.ci.toString(16)}`);
  if (!isRspUd(f.control)) throw new FrameError('unsupported', `M-Bus C field 0x${f.control.toString(16)} is not RSP_UD`);
  const header = mbusHeader(f.data, f.ci);
  const records = mbusRecords(f.data.subarray(header.size));
  const medium = mediumOf(header.medium, records);
  if (!medium) {
    throw new FrameError('unsupported', header.medium === undefined ? 'a short-header M-Bus frame names no medium' : `M-Bus medium 0x${header.medium.toString(16)}`);
  }
  if (!options.receivedAt) throw new FrameError('format', 'a receive time is needed for M-Bus readings');
  const ts = options.receivedAt.toISOString();

  const phases = new Map<MbusRecord, number>();
  for (const kind of ['voltage-v', 'current-a'] as const) {
    records.filter((r) => r.kind === kind && isCurrent(r) && r.tariff === 0 && r.vife.length === 0).slice(0, 3).forEach((r, n) => phases.set(r, n + 1));
  }
  const readings: Reading[] = [];
  const used = new Set<MbusRecord>();
  for (const r of records) {
    const q = quantityOf(r, medium, phases);
    if (!q || readings.some((reading) => reading.quantity === q.quantity)) continue;
    const value = (r.value as number) / q.divisor;
    if (!Number.isFinite(value) || (value < 0 && !SIGNED_QUANTITIES.has(q.quantity))) continue;
    readings.push({ ts, quantity: q.quantity, value, unit: QUANTITY_UNITS[q.quantity] });
    used.add(r);
  }
  if (readings.length === 0) throw new FrameError('format', `no current value Gridshare knows for this ${medium} meter`);

  const extra: Record<string, string | number> = { address: f.address, accessNo: header.accessNo, status: header.status };
  if (header.manufacturer !== undefined) extra.manufacturer = header.manufacturer;
  if (header.medium !== undefined) extra.medium = header.medium;
  if (header.version !== undefined) extra.version = header.version;
  for (const [n, r] of records.entries()) {
    if (used.has(r)) continue;
    if (r.kind === 'time-point' && r.storage === 0 && r.function === 'instantaneous' && extra.meterLocalTime === undefined) extra.meterLocalTime = r.value;
    else extra[`${r.label ?? r.kind}#${n}`] = r.value;
  }
  const fabrication = records.find((r) => r.kind === 'fabrication-no');
  return { format: 'mbus', meterId: header.id ?? (typeof fabrication?.value === 'string' ? fabrication.value : undefined), readings, extra };
}

export function detectMbus(f: Uint8Array): boolean {
  return f.length > 9 && f[0] === 0x68 && f[3] === 0x68 && f[1] === f[2] && (f[6] === CI_LONG_HEADER || f[6] === CI_SHORT_HEADER);
}

export const mbus: MeterDecoder = { name: 'mbus', detect: detectMbus, decode: decodeMbus };

registerDecoder(mbus);
