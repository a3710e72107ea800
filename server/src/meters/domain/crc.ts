/**
 * The 16-bit CRCs meter protocols use, all reflected with polynomial 0x8408 (0x1021 reversed)
 * or 0xA001 (0x8005 reversed); they differ only in initial value and final XOR.
 */
function reflectedCrc16(poly: number, init: number, xorOut: number) {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    table[n] = c;
  }
  return (bytes: Uint8Array, start = 0, end = bytes.length): number => {
    let crc = init;
    for (let i = start; i < end; i++) crc = (crc >>> 8) ^ table[(crc ^ bytes[i]!) & 0xff]!;
    return (crc ^ xorOut) & 0xffff;
  };
}

/** CRC-16/ARC (DSMR P1 telegrams, "/" through "!"). */
export const crc16Arc = reflectedCrc16(0xa001, 0x0000, 0x0000);
/** CRC-16/X-25, also called IBM-SDLC (HDLC HCS/FCS, SML transport). */
export const crc16X25 = reflectedCrc16(0x8408, 0xffff, 0xffff);
/** CRC-16/KERMIT (some SML meters, e.g. Holley DTZ541, use it instead of X-25). */
export const crc16Kermit = reflectedCrc16(0x8408, 0x0000, 0x0000);
