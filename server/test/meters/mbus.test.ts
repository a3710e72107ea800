import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecodedFrame } from '../../src/meters/domain/decoder.js';
import { decodeMbus, detectMbus } from '../../src/meters/domain/decoders/mbus.js';
import { mbusLongFrame } from '../../src/meters/domain/dlms/mbus-transport.js';
import { mbusHeader, mbusRecords } from '../../src/meters/domain/mbus/records.js';
import { loadVector, expectReadingsOrRefusal, refusal } from './vectors.js';

const receivedAt = new Date('2026-11-23T12:00:00Z');
const ts = receivedAt.toISOString();
const EASTRON = 'mbus-wired-libmbus-eastron-sdm630.hex';
const ITRON = 'mbus-wired-libmbus-itron-gas.hex';

const rows = (d: DecodedFrame) => d.readings.map((r) => [r.quantity, r.value, r.unit, r.ts]);
const at = (expected: [string, number, string][]) => expected.map(([q, v, u]) => [q, v, u, ts]);

/** A long frame around `data`, with its checksum: 68 L L 68 C A CI data CS 16. */
function longFrame(ci: number, data: readonly number[], control = 0x08, address = 0x01): Buffer {
  const body = Buffer.from([control, address, ci, ...data]);
  let sum = 0;
  for (const b of body) sum = (sum + b) & 0xff;
  return Buffer.concat([Buffer.of(0x68, body.length, body.length, 0x68), body, Buffer.of(sum, 0x16)]);
}
/** Long header: ID 12345678 (BCD), manufacturer PAD, version 1, the medium, access no 0x2A, status 0, signature 0. */
const header = (medium: number) => [0x78, 0x56, 0x34, 0x12, 0x24, 0x40, 0x01, medium, 0x2a, 0x00, 0x00, 0x00];
const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];

describe('wired M-Bus conformance vectors (libmbus test frames, values as in their norm.xml)', () => {
  it('Eastron SDM630: header, 23 records, phase voltages, currents and power', () => {
    const { bytes } = loadVector(EASTRON);
    const frame = mbusLongFrame(bytes, 0, false);
    expect([frame.length, frame.control, frame.address, frame.ci]).toEqual([bytes.length, 0x08, 0x0a, 0x72]);
    expect(mbusHeader(frame.data)).toEqual({ id: '21346578', manufacturer: 'PAD', version: 1, medium: 2, accessNo: 85, status: 0, signature: 0, size: 12 });
    const records = mbusRecords(frame.data.subarray(12));
    expect(records.map((r) => [r.kind, r.value])).toEqual([
      ...Array.from({ length: 6 }, () => ['voltage-v', 1234.56]),
      ...Array.from({ length: 4 }, () => ['current-a', 123.456]),
      ...Array.from({ length: 4 }, () => ['power-w', 12345.6]),
      ...Array.from({ length: 4 }, () => ['dimensionless', 123456]),
      ['dimensionless', 500], ['dimensionless', 5], ['dimensionless', 5], ['dimensionless', 5], ['dimensionless', 50],
    ]);
    expect(records.every((r) => r.function === 'instantaneous' && r.storage === 0 && r.tariff === 0)).toBe(true);

    const decoded = decodeMbus(bytes, { receivedAt });
    expect(rows(decoded)).toEqual(at([
      ['voltage.l1', 1234.56, 'V'], ['voltage.l2', 1234.56, 'V'], ['voltage.l3', 1234.56, 'V'],
      ['current.l1', 123.456, 'A'], ['current.l2', 123.456, 'A'], ['current.l3', 123.456, 'A'],
      ['power.import', 12345.6, 'W'],
    ]));
    expect(decoded.meterId).toBe('21346578');
    expect(decoded.format).toBe('mbus');
    expect(decoded.extra).toMatchObject({ manufacturer: 'PAD', medium: 2, version: 1, accessNo: 85, status: 0, 'voltage-v#3': 1234.56, 'current-a#9': 123.456, 'dimensionless#22': 50 });
  });

  it('Itron Cyble gas: the current volume is the reading; history, manufacturer extensions and the meter time stay aside', () => {
    const { bytes } = loadVector(ITRON);
    const frame = mbusLongFrame(bytes, 0, false);
    expect([frame.control, frame.address, frame.ci]).toEqual([0x08, 0x04, 0x72]);
    expect(mbusHeader(frame.data)).toEqual({ id: '10020387', manufacturer: 'ACW', version: 0x14, medium: 3, accessNo: 154, status: 0, signature: 0, size: 12 });
    const records = mbusRecords(frame.data.subarray(12));
    expect(records.map((r) => [r.kind, r.value, r.storage, r.label ?? '', r.vife])).toEqual([
      ['fabrication-no', '10020387', 0, '', []],
      ['other', '          ', 0, 'cust. ID', []],
      ['time-point', '2011-10-25T15:43', 0, '', []],
      ['other', 4050, 0, 'bat. time', []],
      ['volume-m3', 0.26, 0, '', []],
      ['volume-m3', 0, 0, '', [0x7f]],
      ['volume-m3', 0.25, 1, '', []],
    ]);
    const decoded = decodeMbus(bytes, { receivedAt });
    expect(rows(decoded)).toEqual(at([['gas.volume', 0.26, 'm3']]));
    expect(decoded.meterId).toBe('10020387');
    expect(decoded.extra).toEqual({
      address: 4, accessNo: 154, status: 0, manufacturer: 'ACW', medium: 3, version: 20,
      'fabrication-no#0': '10020387', 'cust. ID#1': '          ', meterLocalTime: '2011-10-25T15:43',
      'bat. time#3': 4050, 'volume-m3#5': 0, 'volume-m3#6': 0.25,
    });
  });

  it('detects RSP_UD application data, not DLMS over M-Bus', () => {
    expect(detectMbus(loadVector(EASTRON).bytes)).toBe(true);
    expect(detectMbus(loadVector(ITRON).bytes)).toBe(true);
    expect(detectMbus(loadVector('at-netznoe-evn-kaifa-mbus.hex').bytes)).toBe(false);
    expect(detectMbus(longFrame(0x7a, [0, 0, 0, 0]))).toBe(true);
  });
});

describe('EN 13757-3 records Gridshare maps', () => {
  it('electricity: energy by tariff and direction (VIFE 3C), power, one phase; maxima, history and odd values stay aside', () => {
    const frame = longFrame(0x72, [
      ...header(0x02),
      0x04, 0x04, ...u32(12345678), // energy, 10 Wh
      0x84, 0x10, 0x04, ...u32(1000), // tariff 1
      0x84, 0x20, 0x04, ...u32(2000), // tariff 2
      0x04, 0x84, 0x3c, ...u32(100), // backward flow: export
      0x44, 0x04, ...u32(12000000), // storage 1
      0x14, 0x2b, ...u32(5000), // maximum power
      0x02, 0x2b, 0xe8, 0x03, // power 1000 W
      0x02, 0xfd, 0x48, 0xe6, 0x08, // 227.8 V
      0x0a, 0xfd, 0x3a, 0x34, 0xf2, // negative BCD: −234
      0x0a, 0xfd, 0x3a, 0xee, 0xee, // not BCD: kept as it was sent
      0x0d, 0x7c, 0x03, 0x78, 0x79, 0x7a, 0xe2, 0x01, 0x02, // plain-text VIF "zyx", LVAR E2: 2-byte binary
      0x2f, 0x2f, // idle fillers
      0x0f, 0x01, 0x02, 0x03, // manufacturer-specific data to the end
    ]);
    const decoded = decodeMbus(frame, { receivedAt });
    expect(rows(decoded)).toEqual(at([
      ['energy.import', 123456780, 'Wh'], ['energy.import.t1', 10000, 'Wh'], ['energy.import.t2', 20000, 'Wh'],
      ['energy.export', 1000, 'Wh'], ['power.import', 1000, 'W'], ['voltage.l1', 227.8, 'V'],
    ]));
    expect(decoded.extra).toMatchObject({ 'energy-wh#4': 120000000, 'power-w#5': 5000, 'dimensionless#8': -234, 'FD 3a#9': 'EEEE', 'zyx#10': 513 });
    expect(decoded.meterId).toBe('12345678');
  });

  it('heat (energy in J, in MWh via the FB table), water and gas volumes, exactly', () => {
    expect(rows(decodeMbus(longFrame(0x72, [...header(0x04), 0x04, 0x0e, ...u32(36)]), { receivedAt }))).toEqual(at([['heat.energy', 10000, 'Wh']]));
    expect(rows(decodeMbus(longFrame(0x72, [...header(0x0c), 0x02, 0xfb, 0x00, 0x7b, 0x00]), { receivedAt }))).toEqual(at([['heat.energy', 12300000, 'Wh']]));
    expect(rows(decodeMbus(longFrame(0x72, [...header(0x07), 0x0c, 0x13, 0x56, 0x34, 0x12, 0x00]), { receivedAt }))).toEqual(at([['water.volume', 123.456, 'm3']]));
    expect(rows(decodeMbus(longFrame(0x72, [...header(0x03), 0x04, 0x10, ...u32(1234567)]), { receivedAt }))).toEqual(at([['gas.volume', 1.234567, 'm3']]));
  });

  it('a short header (CI 7A) names no medium: voltages and currents say electricity, a bare volume is refused', () => {
    const decoded = decodeMbus(longFrame(0x7a, [0x2a, 0x00, 0x00, 0x00, 0x0c, 0x78, 0x78, 0x56, 0x34, 0x12, 0x02, 0xfd, 0x48, 0xe6, 0x08, 0x02, 0xfd, 0x59, 0xd2, 0x04]), { receivedAt });
    expect(rows(decoded)).toEqual(at([['voltage.l1', 227.8, 'V'], ['current.l1', 1.234, 'A']]));
    expect(decoded.meterId).toBe('12345678');
    expect(refusal(() => decodeMbus(longFrame(0x7a, [0x2a, 0x00, 0x00, 0x00, 0x04, 0x13, ...u32(1)]), { receivedAt }))).toBe('unsupported');
  });

  it('refuses what it does not read', () => {
    const gas = [...header(0x03), 0x04, 0x13, ...u32(1)];
    expect(refusal(() => decodeMbus(longFrame(0x78, [0x04, 0x13, ...u32(1)]), { receivedAt }))).toBe('unsupported');
    expect(refusal(() => decodeMbus(longFrame(0x72, gas, 0x53), { receivedAt }))).toBe('unsupported');
    expect(refusal(() => decodeMbus(longFrame(0x72, [...header(0x0e), 0x04, 0x13, ...u32(1)]), { receivedAt }))).toBe('unsupported');
    expect(refusal(() => decodeMbus(longFrame(0x72, [...header(0x02), 0x04, 0x13, ...u32(1)]), { receivedAt }))).toBe('format');
    expect(refusal(() => decodeMbus(longFrame(0x72, gas), {}))).toBe('format');
    expect(refusal(() => decodeMbus(Buffer.concat([longFrame(0x72, gas), Buffer.of(0)]), { receivedAt }))).toBe('format');
    expect(refusal(() => decodeMbus(longFrame(0x72, [...header(0x03), 0x04, 0x13, 0x01]), { receivedAt }))).toBe('truncated');
    expect(refusal(() => decodeMbus(longFrame(0x72, [...header(0x03), 0x0d, 0x13, 0x05, 0x41]), { receivedAt }))).toBe('truncated');
    expect(refusal(() => decodeMbus(longFrame(0x72, [...header(0x03), 0x3f]), { receivedAt }))).toBe('format');
    expect(refusal(() => decodeMbus(longFrame(0x72, [0x78, 0x56, 0x34, 0x1a, ...header(0x03).slice(4), 0x04, 0x13, ...u32(1)]), { receivedAt }))).toBe('format');
  });
});

describe('wired M-Bus refuses what it cannot trust', () => {
  const vectors = [loadVector(EASTRON), loadVector(ITRON)];

  it('a flipped bit in C, A, CI, the data or the checksum fails the checksum; elsewhere the framing', () => {
    for (const { bytes } of vectors) {
      for (let index = 0; index < bytes.length; index++) {
        for (let bit = 0; bit < 8; bit++) {
          const copy = Buffer.from(bytes);
          copy[index] = copy[index]! ^ (1 << bit);
          const code = refusal(() => decodeMbus(copy, { receivedAt }));
          if (index >= 4 && index <= bytes.length - 2) expect(code, `byte ${index} bit ${bit}`).toBe('crc');
          else expect(['format', 'truncated'], `byte ${index} bit ${bit}`).toContain(code);
        }
      }
    }
  });

  it('truncated frames are refused at every length', () => {
    expect(refusal(() => decodeMbus(vectors[0]!.bytes.subarray(0, 40), { receivedAt }))).toBe('truncated');
    for (const { bytes } of vectors) {
      for (let cut = 0; cut < bytes.length; cut++) expect(['truncated', 'format'], `cut at ${cut}`).toContain(refusal(() => decodeMbus(bytes.subarray(0, cut), { receivedAt })));
    }
  });

  it('survives random records, random bytes and mutated vectors: readings or a FrameError, nothing else', () => {
    fc.assert(fc.property(fc.constantFrom(0x02, 0x03, 0x04, 0x07, 0x0c, 0x0e), fc.uint8Array({ maxLength: 240 }), (medium, data) => {
      expectReadingsOrRefusal(() => decodeMbus(longFrame(0x72, [...header(medium), ...data]), { receivedAt }), ts);
    }), { numRuns: 1500, seed: 5 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 260 }), (rest) => {
      expectReadingsOrRefusal(() => decodeMbus(Buffer.concat([Buffer.of(0x68), rest]), { receivedAt, ignoreCrc: true }), ts);
    }), { numRuns: 300, seed: 6 });
    fc.assert(fc.property(
      fc.constantFrom(...vectors), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.boolean(),
      (vector, edits, ignoreCrc) => {
        const copy = Buffer.from(vector.bytes);
        for (const [index, byte] of edits) copy[index % copy.length] = byte;
        expectReadingsOrRefusal(() => decodeMbus(copy, { receivedAt, ignoreCrc }), ts);
      },
    ), { numRuns: 1500, seed: 7 });
    // Long DIFE/VIFE chains and huge variable lengths end quickly.
    expectReadingsOrRefusal(() => decodeMbus(longFrame(0x72, [...header(0x02), 0x84, ...Array.from({ length: 20 }, () => 0x80), 0x04]), { receivedAt }), ts);
    expectReadingsOrRefusal(() => decodeMbus(longFrame(0x72, [...header(0x02), 0x04, 0x84, ...Array.from({ length: 20 }, () => 0x80)]), { receivedAt }), ts);
    expectReadingsOrRefusal(() => decodeMbus(longFrame(0x72, [...header(0x02), 0x0d, 0x13, 0xbf]), { receivedAt }), ts);
  });
});
