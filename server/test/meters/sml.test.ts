import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc16X25 } from '../../src/meters/domain/crc.js';
import { SIGNED_QUANTITIES } from '../../src/kernel/quantities.js';
import { FrameError, type DecodedFrame } from '../../src/meters/domain/decoder.js';
import { decodeSml, sml } from '../../src/meters/domain/decoders/sml.js';
import { exactValue } from '../../src/meters/domain/exact.js';
import { decodeFrame } from '../../src/meters/domain/registry.js';
import { parseSmlFile } from '../../src/meters/domain/sml/messages.js';
import { SmlReader } from '../../src/meters/domain/sml/tl.js';
import { unwrapSmlTransport } from '../../src/meters/domain/sml/transport.js';
import { loadVector, refusal, vectorFiles } from './vectors.js';

const receivedAt = new Date('2026-11-23T12:00:00Z');
const ts = receivedAt.toISOString();
const emh = loadVector('sml-emh-smartmeter-obis.hex');
const holley = loadVector('sml-holley-kermit-crc-smllib.hex');

/** Readings as [quantity, value, unit], in frame order. */
const triples = (d: DecodedFrame) => d.readings.map((r) => [r.quantity, r.value, r.unit]);

// ---- a small SML encoder for hand-made frames ----

function tl(type: number, length: number): number[] {
  if (length < 16) return [(type << 4) | length];
  const nibbles: number[] = [];
  for (let n = length; n > 0; n >>= 4) nibbles.unshift(n & 0x0f);
  return nibbles.map((nibble, i) => (i === 0 ? 0x80 | (type << 4) : i < nibbles.length - 1 ? 0x80 : 0) | nibble);
}
const octets = (bytes: number[] | string): number[] => {
  const data = typeof bytes === 'string' ? [...Buffer.from(bytes, 'latin1')] : bytes;
  // The length counts the type-length bytes too, which grow with it.
  let header = tl(0, data.length + 1);
  if (header.length > 1) header = tl(0, data.length + header.length);
  return [...header, ...data];
};
const none = [0x01];
function int(value: number | bigint, size: number, signed: boolean): number[] {
  let v = BigInt(value);
  if (v < 0n) v += 1n << BigInt(size * 8);
  const bytes: number[] = [];
  for (let i = 0; i < size; i++) bytes.unshift(Number((v >> BigInt(8 * i)) & 0xffn));
  return [((signed ? 5 : 6) << 4) | (size + 1), ...bytes];
}
const u8 = (v: number) => int(v, 1, false);
const u16 = (v: number) => int(v, 2, false);
const list = (...items: number[][]): number[] => [...tl(7, items.length), ...items.flat()];
/** [transactionId, groupNo, abortOnError, [tag, body], crc16, endOfSmlMsg]. */
const message = (tag: number, body: number[]) => list(octets([1, 2, 3]), u8(0), u8(0), list(u16(tag), body), u16(0), [0x00]);
const entry = (obis: number[], unit: number | undefined, scaler: number, value: number[]) =>
  list(octets(obis), none, none, unit === undefined ? none : u8(unit), int(scaler, 1, true), value, none);
const getList = (entries: number[][], sensorTime: number[] = list(u8(1), int(1000, 4, false))) =>
  message(0x0701, list(none, octets([0x0a, 0x01, 0x41, 0x42, 0x43, 0, 0, 0, 0, 1]), none, sensorTime, list(...entries), none, none));

/** SML transport v1 around a payload: 4-byte blocks, 1B1B1B1B blocks doubled, X-25 low byte first. */
function transport(payload: number[]): Buffer {
  const padding = (4 - (payload.length % 4)) % 4;
  const padded = [...payload, ...new Array<number>(padding).fill(0)];
  const body: number[] = [];
  for (let i = 0; i < padded.length; i += 4) {
    const block = padded.slice(i, i + 4);
    if (block.every((b) => b === 0x1b)) body.push(0x1b, 0x1b, 0x1b, 0x1b);
    body.push(...block);
  }
  const frame = Buffer.from([0x1b, 0x1b, 0x1b, 0x1b, 1, 1, 1, 1, ...body, 0x1b, 0x1b, 0x1b, 0x1b, 0x1a, padding, 0, 0]);
  const crc = crc16X25(frame, 0, frame.length - 2);
  frame[frame.length - 2] = crc & 0xff;
  frame[frame.length - 1] = crc >> 8;
  return frame;
}
const E_180 = [1, 0, 1, 8, 0, 255];
const E_1670 = [1, 0, 16, 7, 0, 255];

describe('SML vectors decode to their headers\' values', () => {
  it('EMH (CRC-16/X-25): 1.8.0, 1.8.1, 1.8.2 and 16.7.0 = 563.5 W; 199.130.3 = "EMH"', () => {
    expect(emh.header.join('\n')).toMatch(/1\.8\.0 = 153385557 \* 10\^-1 Wh = 15338555\.7 Wh; 1\.8\.1 = 15338555\.7 Wh; 1\.8\.2 = 0; 1-0:16\.7\.0 = 5635 \* 10\^-1 W = 563\.5 W/);
    const decoded = decodeSml(emh.bytes, { receivedAt });
    expect(triples(decoded)).toEqual([
      ['energy.import', 15338555.7, 'Wh'],
      ['energy.import.t1', 15338555.7, 'Wh'],
      ['energy.import.t2', 0, 'Wh'],
      ['power.import', 563.5, 'W'],
      ['power.export', 0, 'W'],
    ]);
    expect(decoded.readings.every((r) => r.ts === ts)).toBe(true);
    expect(decoded.format).toBe('sml');
    // 1-0:0.0.9 is the binary server id; the public key (199.130.5) is kept as hex.
    expect(decoded.meterId).toBe('0901454D48000041F045');
    expect(decoded.extra).toMatchObject({ checksum: 'x25', '129-129:199.130.3*255': 'EMH', serverId: '0901454D48000041F045' });
    expect(decoded.extra?.['129-129:199.130.5*255']).toMatch(/^E77EF33E[0-9A-F]{88}$/);
  });

  it('Holley DTZ541 (CRC-16/KERMIT, high byte first): registers, 16.7.0, phases, frequency; historical values apart', () => {
    expect(holley.header.join('\n')).toMatch(/1\.8\.0 = 10793898\.7 Wh; 2\.8\.0 = 13609890 Wh; 16\.7\.0 = 188 W; U = 236\.0\/234\.5\/234\.0 V; I = 0\.69\/0\.21\/0\.26 A; 14\.7\.0 = 50\.0 Hz/);
    const decoded = decodeSml(holley.bytes, { receivedAt });
    expect(triples(decoded)).toEqual([
      ['energy.import', 10793898.7, 'Wh'],
      ['energy.export', 13609890, 'Wh'],
      ['power.import', 188, 'W'],
      ['power.export', 0, 'W'],
      ['voltage.l1', 236, 'V'],
      ['voltage.l2', 234.5, 'V'],
      ['voltage.l3', 234, 'V'],
      ['current.l1', 0.69, 'A'],
      ['current.l2', 0.21, 'A'],
      ['current.l3', 0.26, 'A'],
      ['frequency', 50, 'Hz'],
    ]);
    expect(decoded.meterId).toBe('0A01484C5902000159BB');
    expect(decoded.extra).toMatchObject({
      checksum: 'kermit',
      '1-0:1.8.0*96': 4100, '1-0:1.8.0*100': 10793800, '1-0:2.8.0*96': 5500, '1-0:2.8.0*100': 13609800,
      '1-0:96.50.1*1': 'HLY', '1-0:0.2.0*0': '1.02.007', '1-0:96.5.0*255': 0x1c0104, '1-0:81.7.1*255': 120,
    });
  });

  it('detects SML, and only SML, among the shared vectors; the registry decodes it by name', () => {
    for (const file of vectorFiles()) expect(sml.detect(loadVector(file).bytes), file).toBe(file.startsWith('sml-'));
    expect(decodeFrame(emh.bytes, { receivedAt, format: 'sml' }).readings).toHaveLength(5);
  });

  it('needs a receive time: SML seconds-index times are no clock', () => {
    expect(refusal(() => decodeSml(emh.bytes, {}))).toBe('format');
  });
});

describe('SML transport', () => {
  it('refuses every single-bit flip between the start sequence and the checksum with "crc"', () => {
    for (const vector of [emh.bytes, holley.bytes]) {
      const codes = new Set<string>();
      for (let at = 8; at < vector.length; at++) {
        if (at >= vector.length - 8 && at < vector.length - 3) continue; // the end sequence itself
        for (let bit = 0; bit < 8; bit++) {
          const copy = Buffer.from(vector);
          copy[at] = copy[at]! ^ (1 << bit);
          codes.add(refusal(() => decodeSml(copy, { receivedAt })));
        }
      }
      expect([...codes]).toEqual(['crc']);
    }
  });

  it('refuses a broken start or end sequence and swapped checksum bytes', () => {
    const n = emh.bytes.length;
    for (const at of [0, 3, 4, 7, n - 8, n - 5, n - 4]) {
      const copy = Buffer.from(emh.bytes);
      copy[at] = copy[at]! ^ 0x40;
      expect(['format', 'truncated', 'crc'], `byte ${at}`).toContain(refusal(() => decodeSml(copy, { receivedAt })));
    }
    const swapped = Buffer.from(emh.bytes);
    [swapped[n - 2], swapped[n - 1]] = [swapped[n - 1]!, swapped[n - 2]!];
    expect(refusal(() => decodeSml(swapped, { receivedAt }))).toBe('crc');
    // Told to, a wrong checksum is ignored.
    expect(decodeSml(swapped, { receivedAt, ignoreCrc: true }).readings).toHaveLength(5);
  });

  it('refuses every truncation with "truncated" or "format"', () => {
    expect(refusal(() => decodeSml(emh.bytes.subarray(0, 60), { receivedAt }))).toBe('truncated');
    for (const vector of [emh.bytes, holley.bytes]) {
      for (let length = 0; length < vector.length; length++) {
        expect(['truncated', 'format'], `${length} bytes`).toContain(refusal(() => decodeSml(vector.subarray(0, length), { receivedAt })));
      }
    }
  });

  it('reads an escaped 1B1B1B1B block inside the payload as the literal bytes', () => {
    // Shift the value so that its 1B1B1B1B falls on a 4-byte block of the payload once.
    let escaped = 0;
    for (let shift = 0; shift < 4; shift++) {
      const id = [0x31, 0x1b, 0x1b, 0x1b, 0x1b, 0x32, 0x33, 0x34];
      const payload = [
        ...getList([entry([1, 0, 96, 1, 0, 255], undefined, 0, octets([...new Array<number>(shift).fill(0x30), ...id])), entry(E_180, 30, -1, int(123456789, 4, false))]),
        ...message(0x0201, list(none)),
      ];
      const frame = transport(payload);
      if (frame.toString('hex').includes('1b1b1b1b1b1b1b1b')) escaped++;
      const decoded = decodeSml(frame, { receivedAt });
      expect(decoded.readings).toEqual([{ ts, quantity: 'energy.import', value: 12345678.9, unit: 'Wh' }]);
      expect(decoded.meterId).toBe(Buffer.from([...new Array<number>(shift).fill(0x30), ...id]).toString('hex').toUpperCase());
    }
    expect(escaped).toBe(1);
  });

  it('accepts a checksum only from X-25 (low byte first) or KERMIT (high byte first)', () => {
    const frame = transport(getList([entry(E_180, 30, 0, u8(5))]));
    expect(unwrapSmlTransport(frame, false).checksum).toBe('x25');
    expect(unwrapSmlTransport(holley.bytes, false).checksum).toBe('kermit');
    expect(unwrapSmlTransport(Buffer.from(emh.bytes).fill(0, emh.bytes.length - 2), true).checksum).toBe('none');
  });
});

describe('SML values', () => {
  it('computes value × 10^scaler exactly, dividing by a power of ten', () => {
    expect(exactValue(153385557n, -1)).toBe(15338555.7);
    expect(exactValue(123456789n, -3)).toBe(123456.789);
    expect(exactValue(10793898701n, -4)).toBe(1079389.8701);
    expect(exactValue(-5635n, -1)).toBe(-563.5);
    expect(exactValue(107938n, 2)).toBe(10793800);
    expect(exactValue(69n, -2)).toBe(0.69);
    fc.assert(fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: -9, max: 0 }), (v, s) => {
      // The nearest double to the exact decimal is what parsing its decimal text gives.
      const digits = Math.abs(v).toString().padStart(1 - s, '0');
      const text = `${v < 0 ? '-' : ''}${s === 0 ? digits : `${digits.slice(0, s)}.${digits.slice(s)}`}`;
      return Object.is(exactValue(BigInt(v), s), Number(text)) || (v === 0 && exactValue(0n, s) === 0);
    }), { numRuns: 300 });
  });

  it('splits a negative 16.7.0 into power.export, with power.import 0', () => {
    const frame = transport(getList([entry(E_1670, 27, -1, int(-12345, 4, true)), entry(E_180, 30, 0, int(42, 2, false))]));
    expect(triples(decodeSml(frame, { receivedAt }))).toEqual([
      ['power.import', 0, 'W'],
      ['power.export', 1234.5, 'W'],
      ['energy.import', 42, 'Wh'],
    ]);
  });

  it('keeps values in a unit other than the quantity\'s, and registers of other media, out of the readings', () => {
    const frame = transport(getList([
      entry(E_180, 27, 0, u8(1)), // 1.8.0 in W
      entry([1, 0, 2, 8, 0, 255], 30, 3, u8(7)), // 2.8.0 = 7000 Wh
      entry([7, 0, 3, 0, 0, 255], 13, 0, u8(9)), // gas volume: not electricity
      entry([1, 0, 32, 7, 0, 255], 35, -1, u16(2301)),
    ]));
    const decoded = decodeSml(frame, { receivedAt });
    expect(triples(decoded)).toEqual([['energy.export', 7000, 'Wh'], ['voltage.l1', 230.1, 'V']]);
    expect(decoded.extra).toMatchObject({ '1-0:1.8.0*255': 1, '7-0:3.0.0*255': 9 });
  });

  it('takes the time from a real SML timestamp, otherwise from the receive time', () => {
    const at = Date.UTC(2025, 5, 1, 10, 0, 0) / 1000;
    const stamped = transport(getList([entry(E_180, 30, 0, u8(1))], list(u8(2), int(at, 4, false))));
    expect(decodeSml(stamped, {}).readings[0]!.ts).toBe('2025-06-01T10:00:00.000Z');
    // A "timestamp" no clock can mean (here 2^64 - 1 seconds) is no time either.
    const absurd = transport(getList([entry(E_180, 30, 0, u8(1))], list(u8(2), int(2n ** 64n - 1n, 8, false))));
    expect(decodeSml(absurd, { receivedAt }).readings[0]!.ts).toBe(ts);
    const indexed = transport(getList([entry(E_180, 30, 0, u8(1))]));
    expect(decodeSml(indexed, { receivedAt }).readings[0]!.ts).toBe(ts);
  });

  it('parses multi-byte type-length fields, and refuses lists nested too deep', () => {
    const long = octets(new Array<number>(300).fill(0x41));
    expect(long.slice(0, 3)).toEqual([0x81, 0x82, 0x0f]); // 300 + 3 TL bytes = 0x12F
    const node = new SmlReader(Uint8Array.from(long)).read();
    expect(node.type === 'octets' && node.bytes.length).toBe(300);
    const deep = transport([...new Array<number>(2000).fill(0x71), 0x01]);
    expect(refusal(() => decodeSml(deep, { receivedAt }))).toBe('format');
    expect(refusal(() => parseSmlFile(Uint8Array.from([0x76, 0x01])))).toBe('truncated');
    expect(refusal(() => parseSmlFile(Uint8Array.from([0xf1, 0xff, 0xff, 0xff, 0x01])))).toBe('format');
  });
});

describe('SML fuzzing: a FrameError or finite readings, never another exception', () => {
  const outcome = (frame: Uint8Array, ignoreCrc: boolean): boolean => {
    try {
      return decodeSml(frame, { receivedAt, ignoreCrc }).readings.every((r) => Number.isFinite(r.value) && (r.value >= 0 || SIGNED_QUANTITIES.has(r.quantity)));
    } catch (error) {
      if (error instanceof FrameError) return true;
      throw error;
    }
  };
  const start = Buffer.from('1b1b1b1b01010101', 'hex');

  it('random bytes behind the start sequence', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, ignoreCrc) => outcome(Buffer.concat([start, bytes]), ignoreCrc)), { numRuns: 400 });
  });

  it('random payloads in a valid transport frame (the TL parser, past the checksum)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => outcome(transport([...bytes]), false)), { numRuns: 400 });
  });

  it('well-formed lists of random entries: any OBIS code, unit, scaler, value type and time', () => {
    const value = fc.oneof(
      fc.tuple(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.integer({ min: 1, max: 8 }), fc.boolean())
        .map(([v, size, signed]) => int(BigInt.asIntN(size * 8, v), size, signed)),
      fc.uint8Array({ maxLength: 20 }).map((b) => octets([...b])),
      fc.boolean().map((b) => [0x42, b ? 1 : 0]),
      fc.constant(none),
    );
    const obis = fc.tuple(fc.constantFrom(0, 1, 129), fc.nat(255), fc.constantFrom(1, 2, 14, 16, 32, 36, 96, 199), fc.nat(255), fc.nat(3), fc.constantFrom(0, 96, 255));
    const time = fc.oneof(fc.constant(none), fc.tuple(fc.nat(4), fc.bigInt({ min: 0n, max: 2n ** 32n - 1n })).map(([tag, t]) => list(u8(tag), int(t, 4, false))));
    const anEntry = fc.tuple(obis, fc.option(fc.nat(255)), fc.integer({ min: -128, max: 127 }), value)
      .map(([o, unit, scaler, v]) => entry(o, unit ?? undefined, scaler, v));
    fc.assert(fc.property(fc.array(anEntry, { maxLength: 12 }), time, (entries, t) => outcome(transport(getList(entries, t)), false)), { numRuns: 300 });
  });

  it('mutations of each vector, with and without the checksum, and re-wrapped with a valid one', () => {
    for (const vector of [emh.bytes, holley.bytes]) {
      const payload = [...unwrapSmlTransport(vector, false).payload];
      fc.assert(fc.property(fc.nat(vector.length - 1), fc.integer({ min: 0, max: 255 }), fc.boolean(), (at, byte, ignoreCrc) => {
        const copy = Buffer.from(vector);
        copy[at] = byte;
        return outcome(copy, ignoreCrc);
      }), { numRuns: 300 });
      fc.assert(fc.property(fc.array(fc.tuple(fc.nat(payload.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
        const copy = [...payload];
        for (const [at, byte] of edits) copy[at] = byte;
        return outcome(transport(copy), false);
      }), { numRuns: 300 });
    }
  });
});
