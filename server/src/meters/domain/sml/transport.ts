import { crc16Kermit, crc16X25 } from '../crc.js';
import { FrameError } from '../decoder.js';

/** Which CRC-16 the transport checksum matched (`none` only when told to ignore it). */
export type SmlChecksum = 'x25' | 'kermit' | 'none';

export interface SmlTransportFile {
  /** The SML messages, escapes resolved and padding removed. */
  readonly payload: Uint8Array;
  readonly checksum: SmlChecksum;
}

const ESC = 0x1b;
const START = 0x01;
const END = 0x1a;

function isBlock(frame: Uint8Array, at: number, byte: number): boolean {
  return at + 4 <= frame.length && frame[at] === byte && frame[at + 1] === byte && frame[at + 2] === byte && frame[at + 3] === byte;
}

/** Whether the bytes begin with the SML start sequence 1B1B1B1B 01010101. */
export function startsWithSmlEscape(frame: Uint8Array): boolean {
  return isBlock(frame, 0, ESC) && isBlock(frame, 4, START);
}

/**
 * Unwraps SML transport protocol version 1:
 *
 *     1B1B1B1B 01010101  <messages, 0-3 bytes 00 padding>  1B1B1B1B 1A <pad count> <CRC-16>
 *
 * The payload is a whole number of 4-byte blocks, and escape sequences are recognised on those
 * block boundaries only (as libsml reads them): a block 1B1B1B1B followed by another 1B1B1B1B
 * is the literal payload block 1B1B1B1B; followed by 1A xx, the end. The checksum covers
 * everything from the first 1B through the pad count. Meters use CRC-16/X-25, sent low byte
 * first; some (Holley DTZ541) use CRC-16/KERMIT, sent high byte first. Both are accepted,
 * nothing else, unless `ignoreCrc`. Bytes after the checksum are not part of the file.
 */
export function unwrapSmlTransport(frame: Uint8Array, ignoreCrc: boolean): SmlTransportFile {
  if (!startsWithSmlEscape(frame)) {
    throw new FrameError(frame.length < 8 ? 'truncated' : 'format', 'no SML start sequence 1B1B1B1B 01010101');
  }
  const payload = new Uint8Array(frame.length);
  let size = 0;
  for (let at = 8; ; at += 4) {
    if (at + 4 > frame.length) throw new FrameError('truncated', 'no SML end sequence 1B1B1B1B 1A');
    if (!isBlock(frame, at, ESC)) {
      payload.set(frame.subarray(at, at + 4), size);
      size += 4;
      continue;
    }
    if (at + 8 > frame.length) throw new FrameError('truncated', 'an SML escape sequence without its second block');
    if (isBlock(frame, at + 4, ESC)) {
      payload.set(frame.subarray(at, at + 4), size);
      size += 4;
      at += 4;
      continue;
    }
    if (frame[at + 4] !== END) {
      throw new FrameError('format', `unknown SML escape sequence 1B1B1B1B ${Buffer.from(frame.subarray(at + 4, at + 8)).toString('hex')}`);
    }
    const padding = frame[at + 5]!;
    const checked = at + 6;
    const sentLowFirst = frame[checked]! | (frame[checked + 1]! << 8);
    const sentHighFirst = (frame[checked]! << 8) | frame[checked + 1]!;
    let checksum: SmlChecksum = 'none';
    if (crc16X25(frame, 0, checked) === sentLowFirst) checksum = 'x25';
    else if (crc16Kermit(frame, 0, checked) === sentHighFirst) checksum = 'kermit';
    else if (!ignoreCrc) {
      throw new FrameError('crc', `SML transport checksum ${hex4(sentLowFirst)} (low byte first) matches neither CRC-16/X-25 ${hex4(crc16X25(frame, 0, checked))} nor, high byte first, CRC-16/KERMIT ${hex4(crc16Kermit(frame, 0, checked))}`);
    }
    if (padding > 3 || padding > size) throw new FrameError('format', `SML pad count ${padding}`);
    for (let i = size - padding; i < size; i++) {
      if (payload[i] !== 0) throw new FrameError('format', 'SML padding bytes are not 00');
    }
    return { payload: payload.subarray(0, size - padding), checksum };
  }
}

const hex4 = (n: number) => `0x${n.toString(16).padStart(4, '0').toUpperCase()}`;
