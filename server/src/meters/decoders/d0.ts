import { QUANTITY_UNITS, type Reading } from '../../readings/quantities.js';
import { FrameError, type DecodedFrame, type DecodeOptions, type MeterDecoder } from '../decoder.js';
import { scaledDecimal } from '../dsmr/telegram.js';
import { OBIS, UNIT_FACTOR, obisKey } from '../obis.js';
import { registerDecoder } from '../registry.js';

const STX = 0x02;
const ETX = 0x03;
const MAX_FRAME = 8 * 1024;
const ITEM = /([0-9A-Za-z]+(?:-[0-9]+)?(?::[0-9A-Za-z.]+)?(?:\.[0-9A-Za-z]+)*(?:\*[0-9]+)?)\(([^()]*)\)/g;
const HEAT_WH: Readonly<Record<string, number>> = { MWh: 1e6, kWh: 1e3, Wh: 1, GJ: 1e9 / 3600 };

/**
 * IEC 62056-21 data readout (the optical "D0" interface): an identification line "/XXXZ…",
 * data items "code(value*unit)" up to "!", in mode C framed by STX … ETX and a block check
 * character (XOR of every byte after STX through ETX); mode D pushes without framing.
 */
export function decodeD0(frame: Uint8Array, options: DecodeOptions): DecodedFrame {
  if (frame.length > MAX_FRAME) throw new FrameError('format', `a D0 readout is at most ${MAX_FRAME} bytes`);
  if (frame[0] !== 0x2f) throw new FrameError('format', 'no "/" identification line');
  const lineEnd = frame.indexOf(0x0a);
  if (lineEnd < 0) throw new FrameError('truncated', 'no end of the identification line');
  const identification = Buffer.from(frame.subarray(1, lineEnd)).toString('latin1').trim();
  if (!/^[A-Za-z]{3}[0-9A-Za-z\\]/.test(identification)) throw new FrameError('format', 'the identification is not "XXXZ…"');
  let data: Uint8Array;
  const stx = frame.indexOf(STX, lineEnd);
  if (stx >= 0) {
    const etx = frame.indexOf(ETX, stx);
    if (etx < 0 || etx + 1 >= frame.length) throw new FrameError('truncated', 'no ETX and block check character');
    let bcc = 0;
    for (let i = stx + 1; i <= etx; i++) bcc ^= frame[i]!;
    if (bcc !== frame[etx + 1] && !options.ignoreCrc) {
      throw new FrameError('crc', `block check character 0x${frame[etx + 1]!.toString(16)} sent, 0x${bcc.toString(16)} computed`);
    }
    data = frame.subarray(stx + 1, etx);
  } else data = frame.subarray(lineEnd + 1);
  const text = Buffer.from(data).toString('latin1');
  const bang = text.indexOf('!');
  if (bang < 0) throw new FrameError('truncated', 'no "!" ends the data');
  if (!options.receivedAt) throw new FrameError('format', 'a D0 readout carries no clock: a receive time is needed');
  const ts = options.receivedAt.toISOString();
  const readings: Reading[] = [];
  const extra: Record<string, string | number> = { identification };
  let meterId: string | undefined;
  for (const match of text.slice(0, bang).matchAll(ITEM)) {
    const [, code, raw] = match as unknown as [string, string, string];
    if (code.includes('*') && !code.endsWith('*255')) {
      extra[code] = raw; // historical values (billing periods) are not the current state
      continue;
    }
    const [number = '', unit] = raw.split('&')[0]!.split('*');
    const key = obisKey(code);
    if (key === '0.0.0' || key === '96.1.0' || code === '0.0') {
      meterId ??= raw;
      continue;
    }
    // Heat meters report their energy register as "6.8" (in MWh, GJ or kWh).
    if (code === '6.8' || key === '6.8.0') {
      const factor = HEAT_WH[unit ?? ''];
      if (!factor) throw new FrameError('format', `heat energy in "${unit}"`);
      readings.push({ ts, quantity: 'heat.energy', value: Math.round(scaledDecimal(number, 1) * factor), unit: 'Wh' });
      continue;
    }
    const mapping = /^\d+\.\d+\.\d+$/.test(key) ? OBIS[key] : undefined;
    if (!mapping || !/^-?\d+(\.\d+)?$/.test(number)) {
      extra[code] = raw;
      continue;
    }
    const meterUnit = unit ?? mapping.meterUnit;
    const factor = UNIT_FACTOR[meterUnit];
    if (factor === undefined) throw new FrameError('format', `${code} in "${meterUnit}"`);
    const value = scaledDecimal(number, factor);
    // A signed total power (some meters send 1.7.0 negative when feeding in).
    if (mapping.quantity === 'power.import' && value < 0) readings.push({ ts, quantity: 'power.export', value: -value, unit: 'W' });
    else readings.push({ ts, quantity: mapping.quantity, value, unit: QUANTITY_UNITS[mapping.quantity] });
  }
  if (readings.length === 0) throw new FrameError('format', 'the readout holds no reading Gridshare knows');
  return { format: 'd0', meterId, readings, extra };
}

export const d0: MeterDecoder = {
  name: 'd0',
  // A "!" followed by four hex digits is a DSMR telegram's CRC: never D0's to read.
  detect: (f) => f[0] === 0x2f && (f.includes(STX) || (f.includes(0x21) && !/![0-9A-Fa-f]{3,4}\r?\n?$/.test(Buffer.from(f.subarray(-8)).toString('latin1')))),
  decode: decodeD0,
};

registerDecoder(d0);
