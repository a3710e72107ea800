import { QUANTITY_UNITS, type Reading } from '../../readings/quantities.js';
import { FrameError, type DecodedFrame, type DecodeOptions, type MeterDecoder } from '../decoder.js';
import { OBIS } from '../obis.js';
import { registerDecoder } from '../registry.js';
import { smlPayload } from '../sml/transport.js';
import { SmlReader, type SmlValue } from '../sml/tl.js';

const GET_LIST_RESPONSE = 0x0701n;
const DLMS_UNITS: Readonly<Record<number, string>> = { 27: 'W', 29: 'var', 30: 'Wh', 32: 'varh', 33: 'A', 35: 'V', 44: 'Hz', 255: '1' };

const list = (v: SmlValue | undefined) => (v?.type === 'list' ? v.items : undefined);
const int = (v: SmlValue | undefined) => (v?.type === 'integer' ? v.value : undefined);
const printable = (b: Uint8Array) => {
  const s = Buffer.from(b).toString('latin1');
  return /^[\x20-\x7e]+$/.test(s) ? s : Buffer.from(b).toString('hex').toUpperCase();
};

/**
 * SML 1.04 as German smart meters (eHZ, "moderne Messeinrichtung") push it on their optical
 * interface: the GetListResponse's value list, each entry an OBIS code, unit, scaler and value.
 * SML times are seconds since the meter started, so readings take the receive time.
 */
export function decodeSml(frame: Uint8Array, options: DecodeOptions): DecodedFrame {
  const payload = smlPayload(frame, options.ignoreCrc ?? false);
  const reader = new SmlReader(payload);
  const entries: SmlValue[] = [];
  let serverId: string | undefined;
  while (!reader.done) {
    const message = list(reader.value());
    // transaction id, group, abort-on-error, body, CRC, end of message
    if (!message || message.length !== 6 || message[5]!.type !== 'end') throw new FrameError('format', 'an SML message is a list of six ending in 00');
    const body = list(message[3]);
    if (!body || body.length !== 2) throw new FrameError('format', 'SML message body');
    if (int(body[0]) === GET_LIST_RESPONSE) {
      const response = list(body[1]);
      if (!response || response.length < 5) throw new FrameError('format', 'SML GetListResponse');
      if (response[1]?.type === 'octets') serverId = Buffer.from(response[1].bytes).toString('hex').toUpperCase();
      entries.push(...(list(response[4]) ?? []));
    }
  }
  if (!options.receivedAt) throw new FrameError('format', 'SML carries no clock: a receive time is needed');
  const ts = options.receivedAt.toISOString();
  const readings: Reading[] = [];
  const extra: Record<string, string | number> = {};
  let meterId: string | undefined;
  for (const entry of entries) {
    const fields = list(entry);
    const name = fields?.[0];
    if (!fields || fields.length < 6 || name?.type !== 'octets' || name.bytes.length !== 6) throw new FrameError('format', 'SML list entry');
    const [a, b, c, d, e, f] = name.bytes as unknown as number[];
    const code = `${c}.${d}.${e}`;
    const value = fields[5]!;
    if (value.type === 'octets') {
      const text = printable(value.bytes);
      if (code === '0.0.9' || code === '96.1.0') meterId ??= text;
      else extra[`${a}-${b}:${code}*${f}`] = text;
      continue;
    }
    if (value.type !== 'integer') continue;
    const scaler = Number(int(fields[4]) ?? 0n);
    if (scaler < -9 || scaler > 9) throw new FrameError('format', `SML scaler ${scaler}`);
    const number = scaler >= 0 ? Number(value.value * 10n ** BigInt(scaler)) : Number(value.value) / 10 ** -scaler;
    const unit = DLMS_UNITS[Number(int(fields[3]) ?? 255n)];
    // Historical values (F ≠ 255) are not the meter's current state.
    if (a !== 1 || (f !== 255 && f !== 0)) {
      extra[`${a}-${b}:${code}*${f}`] = number;
      continue;
    }
    if (code === '16.7.0') {
      if (unit !== 'W') throw new FrameError('format', `16.7.0 in ${unit}`);
      readings.push({ ts, quantity: 'power.import', value: Math.max(0, number), unit: 'W' }, { ts, quantity: 'power.export', value: Math.max(0, -number), unit: 'W' });
      continue;
    }
    const mapping = OBIS[code];
    if (!mapping) {
      extra[code] = number;
      continue;
    }
    const expected = QUANTITY_UNITS[mapping.quantity];
    if (unit !== expected) throw new FrameError('format', `${code} in ${unit ?? 'an unknown unit'}, expected ${expected}`);
    readings.push({ ts, quantity: mapping.quantity, value: number, unit: expected });
  }
  if (readings.length === 0) throw new FrameError('format', 'the SML frame holds no reading Gridshare knows');
  return { format: 'sml', meterId: meterId ?? serverId, readings, extra };
}

export const sml: MeterDecoder = {
  name: 'sml',
  detect: (f) => f.length >= 8 && f[0] === 0x1b && f[1] === 0x1b && f[2] === 0x1b && f[3] === 0x1b && f[4] === 1 && f[5] === 1 && f[6] === 1 && f[7] === 1,
  decode: decodeSml,
};

registerDecoder(sml);
