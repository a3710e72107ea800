import { crc16Arc } from '../crc.js';
import { FrameError } from '../decoder.js';

/** One data line of a P1 telegram: `0-1:24.2.1(170102161005W)(00000.107*m3)`. */
export interface DsmrLine {
  /** "0-1:24.2.1" (the `*F` suffix some meters add is dropped). */
  readonly obis: string;
  /** The raw text of each parenthesised group. */
  readonly values: readonly string[];
}

export interface DsmrTelegram {
  /** The identification line without its leading "/". */
  readonly header: string;
  readonly lines: readonly DsmrLine[];
  /** The checksum the meter sent, when it sent one (DSMR ≥ 4). */
  readonly crc: { readonly sent: number; readonly computed: number } | undefined;
}

const MAX_TELEGRAM = 16 * 1024;
const LINE = /^(\d{1,3}-\d{1,3}:\d{1,3}\.\d{1,3}\.\d{1,3})(?:\*\d{1,3})?((?:\([^()]*\))+)$/;

/**
 * Splits a P1 telegram into its lines and checks its CRC-16/ARC, computed over every byte from
 * "/" through "!" (DSMR 5.0.2 §6.2). Meters differ in zero-padding the CRC, so 1–4 hex digits
 * are accepted; older protocol versions send no CRC at all.
 */
export function parseTelegram(frame: Uint8Array, options: { ignoreCrc?: boolean | undefined }): DsmrTelegram {
  if (frame.length > MAX_TELEGRAM) throw new FrameError('format', `a P1 telegram is at most ${MAX_TELEGRAM} bytes`);
  const start = frame.indexOf(0x2f); // "/"
  if (start < 0) throw new FrameError('format', 'no "/" starts the telegram');
  const end = frame.indexOf(0x21, start); // "!"
  if (end < 0) throw new FrameError('truncated', 'no "!" ends the telegram');
  const text = Buffer.from(frame.subarray(start, end)).toString('latin1');
  const trailer = /^([0-9A-Fa-f]{1,4})?\s*$/.exec(Buffer.from(frame.subarray(end + 1, Math.min(frame.length, end + 16))).toString('latin1').split('\n')[0]!);
  if (!trailer) throw new FrameError('format', 'the checksum after "!" is not hexadecimal');
  let crc: DsmrTelegram['crc'];
  if (trailer[1]) {
    crc = { sent: Number.parseInt(trailer[1], 16), computed: crc16Arc(frame, start, end + 1) };
    if (crc.sent !== crc.computed && !options.ignoreCrc) {
      throw new FrameError('crc', `CRC-16 ${hex4(crc.sent)} sent, ${hex4(crc.computed)} computed`);
    }
  }
  const [header = '', ...rest] = text.split(/\r?\n/);
  if (!/^\/[A-Za-z]{3}/.test(header)) throw new FrameError('format', 'the identification line is not "/XXXn…"');
  const lines: DsmrLine[] = [];
  for (const raw of rest) {
    const line = raw.trim();
    if (line === '') continue;
    const match = LINE.exec(line);
    if (!match) throw new FrameError('format', `unreadable line "${line.slice(0, 40)}"`);
    lines.push({ obis: match[1]!, values: match[2]!.slice(1, -1).split(')(') });
  }
  return { header: header.slice(1), lines, crc };
}

const hex4 = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');

/**
 * "YYMMDDhhmmssX" → UTC. DSMR meters (Netherlands, Belgium, Luxembourg) all keep Central European
 * time; X says which: W = winter (UTC+1), S = summer (UTC+2).
 */
export function dsmrTimestamp(text: string): Date | undefined {
  const match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})([WS])$/.exec(text);
  if (!match) throw new FrameError('format', `"${text}" is not a DSMR timestamp`);
  const [yy, mo, dd, hh, mi, ss] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  // 632525252525 is the meters' "no value"; a 1970 date comes from an unbound M-Bus slot.
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59 || ss > 59 || yy === 70) return undefined;
  const offsetHours = match[7] === 'S' ? 2 : 1;
  return new Date(Date.UTC(2000 + yy, mo - 1, dd, hh - offsetHours, mi, ss));
}
