import type { Quantity, Reading } from '../../readings/quantities.js';
import { FrameError, type DecodedFrame, type DecodeOptions, type MeterDecoder } from '../decoder.js';
import { mbusLongFrame } from '../dlms/transport.js';
import { mbusHeader, mbusRecords, type MbusRecord } from '../mbus/records.js';
import { registerDecoder } from '../registry.js';

const RSP_UD_LONG_HEADER = 0x72;
const MEDIUM = { electricity: 0x02, gas: 0x03, heatOutlet: 0x04, warmWater: 0x06, water: 0x07, heatInlet: 0x0c } as const;

/** The first current (storage 0, tariff 0) value of a kind, as a reading. */
function first(records: readonly MbusRecord[], kind: MbusRecord['kind'], quantity: Quantity, unit: Reading['unit'], ts: string, scale = 1): Reading | undefined {
  const record = records.find((r) => r.kind === kind && r.storage === 0 && r.tariff === 0 && typeof r.value === 'number');
  return record ? { ts, quantity, value: Math.round((record.value as number) * scale * 1000) / 1000, unit } : undefined;
}

/**
 * Wired M-Bus meters (EN 13757-3 RSP_UD with the long header): electricity, gas, water and heat
 * sub-meters. Only current values (storage 0, tariff 0) become readings; the rest is `extra`.
 * M-Bus time points are local times of unknown zone, so readings take the receive time.
 */
export function decodeMbus(frame: Uint8Array, options: DecodeOptions): DecodedFrame {
  const f = mbusLongFrame(frame, 0, options.ignoreCrc ?? false);
  if (f.ci !== RSP_UD_LONG_HEADER) throw new FrameError('unsupported', `M-Bus CI 0x${f.ci.toString(16)}`);
  const header = mbusHeader(f.data);
  const records = mbusRecords(f.data.subarray(12));
  if (!options.receivedAt) throw new FrameError('format', 'a receive time is needed for M-Bus readings');
  const ts = options.receivedAt.toISOString();
  const readings: (Reading | undefined)[] = [];
  if (header.medium === MEDIUM.electricity) {
    readings.push(first(records, 'energy-wh', 'energy.import', 'Wh', ts), first(records, 'power-w', 'power.import', 'W', ts));
    const phases = (kind: MbusRecord['kind'], prefix: 'voltage' | 'current') => records.filter((r) => r.kind === kind && r.storage === 0).slice(0, 3)
      .forEach((r, n) => readings.push({ ts, quantity: `${prefix}.l${n + 1}` as Quantity, value: r.value as number, unit: prefix === 'voltage' ? 'V' : 'A' }));
    phases('voltage-v', 'voltage');
    phases('current-a', 'current');
  } else if (header.medium === MEDIUM.gas) readings.push(first(records, 'volume-m3', 'gas.volume', 'm3', ts));
  else if (header.medium === MEDIUM.water || header.medium === MEDIUM.warmWater) readings.push(first(records, 'volume-m3', 'water.volume', 'm3', ts));
  else if (header.medium === MEDIUM.heatOutlet || header.medium === MEDIUM.heatInlet) {
    readings.push(first(records, 'energy-wh', 'heat.energy', 'Wh', ts) ?? first(records, 'energy-j', 'heat.energy', 'Wh', ts, 1 / 3600));
  }
  const found = readings.filter((r): r is Reading => r !== undefined);
  if (found.length === 0) throw new FrameError('format', `no current value Gridshare knows for medium 0x${header.medium.toString(16)}`);
  const extra: Record<string, string | number> = { manufacturer: header.manufacturer, medium: header.medium, version: header.version, accessNo: header.accessNo };
  for (const [n, r] of records.entries()) {
    if (r.kind === 'time-point') extra.meterLocalTime ??= r.value;
    else if (r.kind === 'other' || r.storage !== 0) extra[`${r.label ?? r.kind}#${n}`] = r.value;
  }
  return { format: 'mbus', meterId: header.id, readings: found, extra };
}

export const mbus: MeterDecoder = {
  name: 'mbus',
  detect: (f) => f[0] === 0x68 && f[3] === 0x68 && f[6] === RSP_UD_LONG_HEADER,
  decode: decodeMbus,
};

registerDecoder(mbus);
