import { crc16X25 } from '../crc.js';
import { FrameError } from '../decoder.js';

const MAX_FRAMES = 64;
const LLC = [0xe6, 0xe7, 0x00];

/**
 * HDLC frames (IEC 62056-46, format type 3): 7E | A0/A8 length | addresses | control | HCS |
 * information | FCS | 7E; HCS and FCS are CRC-16/X-25, low byte first. The information fields
 * of consecutive frames (segmentation bit 0x08) are joined; the LLC header is dropped.
 */
export function hdlcPayload(frame: Uint8Array, ignoreCrc: boolean): Uint8Array {
  const parts: Uint8Array[] = [];
  let i = 0;
  for (let n = 0; i < frame.length && n < MAX_FRAMES; n++) {
    while (i < frame.length && frame[i] === 0x7e) i++;
    if (i >= frame.length) break;
    if (frame.length - i < 2) throw new FrameError('truncated', 'HDLC frame without its format field');
    const format = (frame[i]! << 8) | frame[i + 1]!;
    if (format >> 12 !== 0xa) throw new FrameError('format', 'not an HDLC frame of format type 3');
    const length = format & 0x7ff;
    if (length < 7) throw new FrameError('format', `HDLC frame of ${length} bytes`);
    if (i + length > frame.length) throw new FrameError('truncated', `HDLC frame of ${length} bytes, ${frame.length - i} left`);
    const body = frame.subarray(i, i + length);
    let p = 2;
    for (let a = 0; a < 2; a++) {
      while (p < body.length && !(body[p]! & 1)) p++;
      p++;
    }
    p++; // control
    if (p + 2 > body.length - 2) throw new FrameError('format', 'HDLC header longer than the frame');
    if (!ignoreCrc && crc16X25(body, 0, p) !== (body[p]! | (body[p + 1]! << 8))) throw new FrameError('crc', 'HDLC header check sequence');
    if (!ignoreCrc && crc16X25(body, 0, length - 2) !== (body[length - 2]! | (body[length - 1]! << 8))) throw new FrameError('crc', 'HDLC frame check sequence');
    parts.push(body.subarray(p + 2, length - 2));
    i += length;
    if (frame[i] !== 0x7e) throw new FrameError('format', 'HDLC frame not closed by 7E');
    i++;
  }
  let payload = Buffer.concat(parts);
  if (payload[0] === LLC[0] && payload[1] === LLC[1]) payload = payload.subarray(3);
  return payload[0] === 0xe0 ? generalBlockTransfer(payload) : payload;
}

/** General Block Transfer (0xE0 ctrl block# ack# length data …): blocks joined until the last-block bit. */
function generalBlockTransfer(payload: Uint8Array): Uint8Array {
  const blocks: Uint8Array[] = [];
  let i = 0;
  for (let n = 0; n < MAX_FRAMES; n++) {
    if (payload[i] !== 0xe0) throw new FrameError('format', 'general block transfer block expected');
    if (i + 7 > payload.length) throw new FrameError('truncated', 'general block transfer header');
    const control = payload[i + 1]!;
    let p = i + 7;
    let length = payload[i + 6]!;
    if (length & 0x80) {
      const n = length & 0x7f;
      if (n === 0 || n > 2 || p + n > payload.length) throw new FrameError('format', 'general block transfer length');
      length = 0;
      for (let k = 0; k < n; k++) length = length * 256 + payload[p++]!;
    }
    if (p + length > payload.length) throw new FrameError('truncated', 'general block transfer block');
    blocks.push(payload.subarray(p, p + length));
    i = p + length;
    if (control & 0x80) return Buffer.concat(blocks);
    if (i >= payload.length) throw new FrameError('truncated', 'the last general block transfer block is missing');
  }
  throw new FrameError('format', 'too many general block transfer blocks');
}

/** One wired M-Bus long frame (EN 13757-2): 68 L L 68 | C A CI data | checksum | 16. */
export interface MbusLongFrame {
  readonly control: number;
  readonly address: number;
  readonly ci: number;
  readonly data: Uint8Array;
  readonly length: number;
}

export function mbusLongFrame(frame: Uint8Array, at: number, ignoreCrc: boolean): MbusLongFrame {
  if (frame.length - at < 9) throw new FrameError('truncated', 'M-Bus frame shorter than its header');
  const l = frame[at + 1]!;
  if (frame[at] !== 0x68 || frame[at + 2] !== l || frame[at + 3] !== 0x68) throw new FrameError('format', 'not an M-Bus long frame');
  if (l < 3) throw new FrameError('format', 'M-Bus frame without control, address and CI');
  const end = at + 4 + l;
  if (end + 2 > frame.length) throw new FrameError('truncated', `M-Bus frame of ${l} bytes, ${frame.length - at - 6} left`);
  let sum = 0;
  for (let k = at + 4; k < end; k++) sum = (sum + frame[k]!) & 0xff;
  if (!ignoreCrc && sum !== frame[end]) throw new FrameError('crc', 'M-Bus checksum');
  if (frame[end + 1] !== 0x16) throw new FrameError('format', 'M-Bus frame not closed by 16');
  return { control: frame[at + 4]!, address: frame[at + 5]!, ci: frame[at + 6]!, data: frame.subarray(at + 7, end), length: l + 6 };
}

/**
 * DLMS over wired M-Bus (as the Austrian customer interfaces send it): CI 0x00–0x0F is a segment
 * with more to follow, 0x10 a whole APDU, 0x11 the final segment; each carries STSAP and DTSAP
 * before its part of the APDU.
 */
export function mbusDlmsPayload(frame: Uint8Array, ignoreCrc: boolean): Uint8Array {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (let n = 0; n < MAX_FRAMES; n++) {
    const f = mbusLongFrame(frame, at, ignoreCrc);
    if (f.ci > 0x1f) throw new FrameError('format', `M-Bus CI 0x${f.ci.toString(16)} does not carry DLMS`);
    if (f.data.length < 2) throw new FrameError('truncated', 'M-Bus DLMS segment without its TSAPs');
    parts.push(f.data.subarray(2));
    at += f.length;
    if (f.ci & 0x10) return Buffer.concat(parts);
    if (at >= frame.length) throw new FrameError('truncated', 'the final M-Bus segment is missing');
  }
  throw new FrameError('format', 'too many M-Bus segments');
}
