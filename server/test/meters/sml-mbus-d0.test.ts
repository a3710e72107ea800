import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameError, type DecodedFrame } from '../../src/meters/decoder.js';
import { decodeSml } from '../../src/meters/decoders/sml.js';
import { decodeMbus } from '../../src/meters/decoders/mbus.js';
import { decodeD0 } from '../../src/meters/decoders/d0.js';
import { decodesOrRefuses, loadVector } from './vectors.js';
import { refusal } from './vectors.js';

const receivedAt = new Date('2026-11-23T12:00:00Z');
const valuesOf = (d: DecodedFrame) => Object.fromEntries(d.readings.map((r) => [r.quantity, r.value]));
const isFrameError = (e: unknown) => e instanceof FrameError;
function fuzz(decode: (frame: Uint8Array) => DecodedFrame, vector: Buffer, prefix: Buffer) {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => decodesOrRefuses(() => decode(Buffer.concat([prefix, bytes])), isFrameError)), { numRuns: 300 });
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(vector.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (edits) => {
    const copy = Buffer.from(vector);
    for (const [at, byte] of edits) copy[at] = byte;
    return decodesOrRefuses(() => decode(copy), isFrameError);
  }), { numRuns: 300 });
}

describe('SML (German smart meters)', () => {
  const emh = loadVector('sml-emh-smartmeter-obis.hex').bytes;
  const holley = loadVector('sml-holley-kermit-crc-smllib.hex').bytes;

  it('EMH (CRC-16/X-25): 1.8.0, tariffs and the signed total power 16.7.0', () => {
    const decoded = decodeSml(emh, { receivedAt });
    expect(valuesOf(decoded)).toEqual({ 'energy.import': 15338555.7, 'energy.import.t1': 15338555.7, 'energy.import.t2': 0, 'power.import': 563.5, 'power.export': 0 });
    expect(decoded.extra).toMatchObject({ '129-129:199.130.3*255': 'EMH' });
    expect(decoded.readings.every((r) => r.ts === receivedAt.toISOString())).toBe(true);
  });

  it('Holley DTZ541 (CRC-16/KERMIT): registers, phases, frequency; historical values kept apart', () => {
    const decoded = decodeSml(holley, { receivedAt });
    expect(valuesOf(decoded)).toEqual({
      'energy.import': 10793898.7, 'energy.export': 13609890, 'power.import': 188, 'power.export': 0,
      'voltage.l1': 236, 'voltage.l2': 234.5, 'voltage.l3': 234, 'current.l1': 0.69, 'current.l2': 0.21, 'current.l3': 0.26, frequency: 50,
    });
    expect(decoded.extra).toMatchObject({ '1-0:1.8.0*100': 10793800, '1-0:2.8.0*96': 5500 });
  });

  it('refuses flipped bits (checksum), truncation, and survives garbage', () => {
    fc.assert(fc.property(fc.nat(emh.length - 3), fc.integer({ min: 0, max: 7 }), (at, bit) => {
      const copy = Buffer.from(emh);
      copy[at] = copy[at]! ^ (1 << bit);
      expect(['crc', 'format', 'truncated']).toContain(refusal(() => decodeSml(copy, { receivedAt })));
    }), { numRuns: 200 });
    expect(refusal(() => decodeSml(emh.subarray(0, 60), { receivedAt }))).toBe('truncated');
    fuzz((f) => decodeSml(f, { receivedAt, ignoreCrc: true }), holley, Buffer.from('1b1b1b1b01010101', 'hex'));
  });
});

describe('wired M-Bus (EN 13757-3)', () => {
  const eastron = loadVector('mbus-wired-libmbus-eastron-sdm630.hex').bytes;
  const itron = loadVector('mbus-wired-libmbus-itron-gas.hex').bytes;

  it('Eastron SDM630: header, voltages (FD 47), currents (FD 59) and power (VIF 2A)', () => {
    const decoded = decodeMbus(eastron, { receivedAt });
    expect(decoded.meterId).toBe('21346578');
    expect(decoded.extra).toMatchObject({ manufacturer: 'PAD', medium: 2, version: 1, accessNo: 0x55 });
    expect(valuesOf(decoded)).toEqual({
      'power.import': 12345.6, 'voltage.l1': 1234.56, 'voltage.l2': 1234.56, 'voltage.l3': 1234.56,
      'current.l1': 123.456, 'current.l2': 123.456, 'current.l3': 123.456,
    });
  });

  it('Itron gas: the current volume, the time point and the storage-1 volume kept apart', () => {
    const decoded = decodeMbus(itron, { receivedAt });
    expect(decoded.meterId).toBe('10020387');
    expect(decoded.readings).toEqual([{ ts: receivedAt.toISOString(), quantity: 'gas.volume', value: 0.26, unit: 'm3' }]);
    expect(decoded.extra).toMatchObject({ manufacturer: 'ACW', medium: 3, accessNo: 154, meterLocalTime: '2011-10-25T15:43', 'bat. time#3': 4050, 'volume-m3#6': 0.25 });
  });

  it('refuses a wrong checksum and truncation, and survives garbage', () => {
    const copy = Buffer.from(eastron);
    copy[30] = copy[30]! ^ 0x10;
    expect(refusal(() => decodeMbus(copy, { receivedAt }))).toBe('crc');
    expect(refusal(() => decodeMbus(eastron.subarray(0, 40), { receivedAt }))).toBe('truncated');
    fuzz((f) => decodeMbus(f, { receivedAt, ignoreCrc: true }), itron, Buffer.from('68565668080472', 'hex'));
  });
});

describe('IEC 62056-21 (D0)', () => {
  const heat = loadVector('d0-modec-heatmeter-smartmeter-obis.txt').bytes;
  const easymeter = loadVector('d0-moded-easymeter-q3d-ndokter.txt').bytes;

  it('a mode C heat meter: the placeholder BCC is refused, and read when told to', () => {
    expect(() => decodeD0(heat, { receivedAt })).toThrow(/block check character 0x58 sent, 0x6f computed/);
    const decoded = decodeD0(heat, { receivedAt, ignoreCrc: true });
    expect(decoded.readings).toEqual([{ ts: receivedAt.toISOString(), quantity: 'heat.energy', value: 29_055_000, unit: 'Wh' }]);
    expect(decoded.extra).toMatchObject({ '9.20': '64030874', '9.4': '088*C&082*C', '6.8*01': '0028.086*MWh' });
  });

  it('a mode D push (EasyMeter Q3D): registers with seven decimals, phase powers', () => {
    const decoded = decodeD0(easymeter, { receivedAt });
    expect(valuesOf(decoded)).toEqual({
      'energy.import': 52185782.5309, 'energy.export': 19949322.1493,
      'power.import.l1': 747.85, 'power.import.l2': 737.28, 'power.import.l3': 639.73, 'power.import': 2124.86,
    });
    expect(decoded.meterId).toBe('0272031312565');
    expect(decoded.extra).toMatchObject({ '1-0:96.5.5*255': '80', '0-0:96.1.255*255': '1ESY1313002565' });
  });

  it('a flipped data byte fails the BCC; garbage never crashes', () => {
    const fixed = Buffer.from(heat);
    let bcc = 0;
    const stx = fixed.indexOf(2);
    const etx = fixed.indexOf(3);
    for (let i = stx + 1; i <= etx; i++) bcc ^= fixed[i]!;
    fixed[etx + 1] = bcc;
    expect(decodeD0(fixed, { receivedAt }).readings).toHaveLength(1);
    fixed[stx + 5] = fixed[stx + 5]! ^ 0x01;
    expect(refusal(() => decodeD0(fixed, { receivedAt }))).toBe('crc');
    fuzz((f) => decodeD0(f, { receivedAt, ignoreCrc: true }), easymeter, Buffer.from('/ABC5\r\n'));
  });
});
