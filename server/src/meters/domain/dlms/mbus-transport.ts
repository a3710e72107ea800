import { FrameError } from '../decoder.js';

const MAX_SEGMENTS = 64;
const LONG_FRAME_START = 0x68;
const STOP = 0x16;
/** CI fields 0x00–0x1F are reserved for DLMS: bit 4 marks the final segment, bits 0–3 count segments. */
export const DLMS_CI_MAX = 0x1f;
const FINAL_SEGMENT = 0x10;

/** One wired M-Bus long frame (EN 13757-2): 68 L L 68 | C A CI data | checksum | 16. */
export interface MbusLongFrame {
  readonly control: number;
  readonly address: number;
  readonly ci: number;
  /** The bytes after the CI field, up to the checksum. */
  readonly data: Uint8Array;
  /** The whole frame's size in bytes, start to stop byte. */
  readonly length: number;
}

/**
 * Reads the long frame starting at `at`. L counts C, A, CI and the data; the checksum is the sum
 * of those bytes modulo 256. A wrong checksum is `crc` unless `ignoreCrc`.
 */
export function mbusLongFrame(frame: Uint8Array, at: number, ignoreCrc: boolean): MbusLongFrame {
  if (frame.length - at < 4) throw new FrameError('truncated', 'M-Bus frame shorter than its header');
  const l = frame[at + 1]!;
  if (frame[at] !== LONG_FRAME_START || frame[at + 2] !== l || frame[at + 3] !== LONG_FRAME_START) throw new FrameError('format', 'not an M-Bus long frame');
  if (l < 3) throw new FrameError('format', 'M-Bus frame without control, address and CI');
  const end = at + 4 + l;
  if (end + 2 > frame.length) throw new FrameError('truncated', `M-Bus frame of ${l} bytes, ${Math.max(0, frame.length - at - 6)} left`);
  let sum = 0;
  for (let k = at + 4; k < end; k++) sum = (sum + frame[k]!) & 0xff;
  if (!ignoreCrc && sum !== frame[end]) throw new FrameError('crc', `M-Bus checksum 0x${frame[end]!.toString(16)} sent, 0x${sum.toString(16)} computed`);
  if (frame[end + 1] !== STOP) throw new FrameError('format', 'M-Bus frame not closed by 16');
  return { control: frame[at + 4]!, address: frame[at + 5]!, ci: frame[at + 6]!, data: frame.subarray(at + 7, end), length: l + 6 };
}

/** One DLMS segment as wired M-Bus carries it: its CI, transport SAPs and part of the APDU. */
export interface MbusDlmsSegment {
  readonly frame: MbusLongFrame;
  readonly sequence: number;
  readonly final: boolean;
  readonly stsap: number;
  readonly dtsap: number;
  readonly part: Uint8Array;
}

export function mbusDlmsSegments(frame: Uint8Array, ignoreCrc: boolean): MbusDlmsSegment[] {
  const segments: MbusDlmsSegment[] = [];
  let at = 0;
  for (let n = 0; n < MAX_SEGMENTS; n++) {
    const f = mbusLongFrame(frame, at, ignoreCrc);
    if (f.ci > DLMS_CI_MAX) throw new FrameError('format', `M-Bus CI 0x${f.ci.toString(16)} does not carry DLMS`);
    if (f.data.length < 2) throw new FrameError('truncated', 'M-Bus DLMS segment without its TSAPs');
    const segment = { frame: f, sequence: f.ci & 0x0f, final: (f.ci & FINAL_SEGMENT) !== 0, stsap: f.data[0]!, dtsap: f.data[1]!, part: f.data.subarray(2) };
    const previous = segments[segments.length - 1];
    if (previous) {
      if (segment.sequence !== ((previous.sequence + 1) & 0x0f)) {
        throw new FrameError('truncated', `M-Bus DLMS segment ${segment.sequence} follows segment ${previous.sequence}`);
      }
      if (segment.stsap !== previous.stsap || segment.dtsap !== previous.dtsap) throw new FrameError('format', 'M-Bus DLMS segments of different transport SAPs');
    }
    segments.push(segment);
    at += f.length;
    if (segment.final) {
      if (at !== frame.length) throw new FrameError('format', `${frame.length - at} bytes after the final M-Bus segment`);
      return segments;
    }
    if (at >= frame.length) throw new FrameError('truncated', 'the final M-Bus segment is missing');
  }
  throw new FrameError('format', 'too many M-Bus segments');
}

/**
 * DLMS over wired M-Bus (as the Austrian customer interfaces send it): CI 0x00–0x0F is a segment
 * with more to follow, 0x10 a whole APDU, 0x11… the final segment; each carries STSAP and DTSAP
 * before its part of the APDU. The parts are joined in order.
 */
export function mbusDlmsApdu(frame: Uint8Array, ignoreCrc: boolean): Uint8Array {
  return Buffer.concat(mbusDlmsSegments(frame, ignoreCrc).map((s) => s.part));
}
