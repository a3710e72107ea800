import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseD0Readout } from '../../src/meters/domain/d0/readout.js';
import { exactValue, parseDecimal } from '../../src/meters/domain/exact.js';
import { FrameError, type DecodedFrame } from '../../src/meters/domain/decoder.js';
import { d0, decodeD0 } from '../../src/meters/domain/decoders/d0.js';
import { decodeFrame } from '../../src/meters/domain/registry.js';
import { SIGNED_QUANTITIES } from '../../src/kernel/quantities.js';
import { loadVector, refusal, vectorFiles } from './vectors.js';

const receivedAt = new Date('2026-11-23T12:00:00Z');
const ts = receivedAt.toISOString();
const heat = loadVector('d0-modec-heatmeter-smartmeter-obis.txt');
const easymeter = loadVector('d0-moded-easymeter-q3d-ndokter.txt');

const triples = (d: DecodedFrame) => d.readings.map((r) => [r.quantity, r.value, r.unit]);
const text = (s: string) => Buffer.from(s.replace(/\n/g, '\r\n'), 'latin1');

/** The heat meter vector with the block check character it should have had. */
function withValidBcc(frame: Buffer): Buffer {
  const fixed = Buffer.from(frame);
  const stx = fixed.indexOf(0x02);
  const etx = fixed.indexOf(0x03);
  let bcc = 0;
  for (let i = stx + 1; i <= etx; i++) bcc ^= fixed[i]!;
  fixed[etx + 1] = bcc;
  return fixed;
}

describe('D0 vectors decode to their headers\' values', () => {
  it('mode C heat meter: the placeholder BCC is refused; with ignoreCrc, 6.8 = 29.055 MWh', () => {
    expect(heat.entry.bccValid).toBe(false);
    expect(heat.header.join('\n')).toMatch(/6\.8 = 29\.055 MWh \(raw "0029\.055\*MWh"\), 9\.20 = 64030874/);
    expect(refusal(() => decodeD0(heat.bytes, { receivedAt }))).toBe('crc');
    expect(() => decodeD0(heat.bytes, { receivedAt })).toThrow(/block check character 0x58 sent, 0x6f computed/);
    const decoded = decodeD0(heat.bytes, { receivedAt, ignoreCrc: true });
    expect(decoded.readings).toEqual([{ ts, quantity: 'heat.energy', value: 29_055_000, unit: 'Wh' }]);
    expect(decoded.format).toBe('d0');
    expect(decoded.meterId).toBe('00010213');
    expect(decoded.extra).toMatchObject({
      identification: 'SIEC2WR5', manufacturer: 'SIE', '9.20': '64030874', '9.4': '088*C&082*C', '6.26': '01589.28*m3',
      // Historical (billing period) values are not current readings.
      '6.8*01': '0028.086*MWh', '6.26*01': '01563.92*m3', '9.36': '2017-01-18&01:36:47',
    });
  });

  it('mode D EasyMeter Q3D: seven-decimal registers, phase powers, signed total, id and status', () => {
    expect(easymeter.header.join('\n')).toMatch(/1\.8\.0 = 52185\.7825309 kWh; 2\.8\.0 = 19949\.3221493 kWh; 21\.7\.0\/41\.7\.0\/61\.7\.0 = 747\.85\/737\.28\/639\.73 W; 1\.7\.0 = 2124\.86 W/);
    const decoded = decodeD0(easymeter.bytes, { receivedAt });
    expect(triples(decoded)).toEqual([
      ['energy.import', 52185782.5309, 'Wh'],
      ['energy.export', 19949322.1493, 'Wh'],
      ['power.import.l1', 747.85, 'W'],
      ['power.import.l2', 737.28, 'W'],
      ['power.import.l3', 639.73, 'W'],
      ['power.import', 2124.86, 'W'],
    ]);
    expect(decoded.readings.every((r) => r.ts === ts)).toBe(true);
    expect(decoded.meterId).toBe('0272031312565');
    expect(decoded.extra).toMatchObject({ identification: 'ESY5Q3DB1024 V3.04', '1-0:96.5.5*255': '80', '0-0:96.1.255*255': '1ESY1313002565' });
  });

  it('ignores what a gateway appends after "!"', () => {
    const bang = easymeter.bytes.indexOf('!\r\n');
    const clean = easymeter.bytes.subarray(0, bang + 3);
    const noisy = Buffer.concat([clean, Buffer.from('1-0:1.8.0*255(99999999.9*kWh)\r\n\x02\x03garbage(')]);
    const expected = triples(decodeD0(easymeter.bytes, { receivedAt }));
    expect(triples(decodeD0(clean, { receivedAt }))).toEqual(expected);
    expect(triples(decodeD0(noisy, { receivedAt }))).toEqual(expected);
  });

  it('needs a receive time', () => {
    expect(refusal(() => decodeD0(easymeter.bytes, {}))).toBe('format');
  });
});

describe('D0 detection', () => {
  it('accepts the D0 vectors and nothing else among the shared vectors, DSMR telegrams included', () => {
    for (const file of vectorFiles()) expect(d0.detect(loadVector(file).bytes), file).toBe(file.startsWith('d0-'));
  });

  it('refuses a D0-looking telegram whose "!" carries a DSMR CRC', () => {
    const body = '/ESY5Q3DB1024 V3.04\n\n1-0:1.8.0*255(00052185.7825309*kWh)\n!';
    expect(d0.detect(text(`${body}\n`))).toBe(true);
    expect(d0.detect(text(`${body}A1B2\n`))).toBe(false);
    expect(d0.detect(text(`${body}B9F\n`))).toBe(false);
    expect(d0.detect(text('/ISk5\\2MT382-1000\n\n1-3:0.2.8(50)\n1-0:1.8.1(000001.000*kWh)\n!\n'))).toBe(false);
    expect(d0.detect(text('not a readout\n'))).toBe(false);
    expect(decodeFrame(easymeter.bytes, { receivedAt, format: 'd0' }).readings).toHaveLength(6);
  });
});

describe('D0 block check character', () => {
  it('reads the heat meter vector once its BCC is right; a flipped BCC is refused', () => {
    const fixed = withValidBcc(heat.bytes);
    expect(decodeD0(fixed, { receivedAt }).readings).toEqual(decodeD0(heat.bytes, { receivedAt, ignoreCrc: true }).readings);
    const etx = fixed.indexOf(0x03);
    const changedData = Buffer.from(fixed);
    changedData[fixed.indexOf(0x02) + 5] = changedData[fixed.indexOf(0x02) + 5]! ^ 0x01;
    expect(refusal(() => decodeD0(changedData, { receivedAt }))).toBe('crc');
    for (let bit = 0; bit < 8; bit++) {
      const copy = Buffer.from(fixed);
      copy[etx + 1] = copy[etx + 1]! ^ (1 << bit);
      expect(refusal(() => decodeD0(copy, { receivedAt }))).toBe('crc');
    }
  });

  it('refuses every single-bit flip after STX and before ETX with "crc"; without its ETX, a block is cut short', () => {
    const fixed = withValidBcc(heat.bytes);
    const stx = fixed.indexOf(0x02);
    const etx = fixed.indexOf(0x03);
    const codes = new Map<string, number>();
    for (let at = stx + 1; at < etx; at++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = Buffer.from(fixed);
        copy[at] = copy[at]! ^ (1 << bit);
        const code = refusal(() => decodeD0(copy, { receivedAt }));
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }
    expect([...codes.keys()]).toEqual(['crc']);
    const noEtx = Buffer.from(fixed);
    noEtx[etx] = 0x04;
    expect(refusal(() => decodeD0(noEtx, { receivedAt }))).toBe('truncated');
  });

  it('refuses truncation: "truncated" (or "format" before the identification line is whole)', () => {
    const fixed = withValidBcc(heat.bytes);
    const etx = fixed.indexOf(0x03);
    for (let length = 0; length <= etx + 1; length++) {
      const code = refusal(() => decodeD0(fixed.subarray(0, length), { receivedAt }));
      expect(length < 2 ? ['format', 'truncated'] : ['truncated'], `${length} bytes`).toContain(code);
    }
    const bang = easymeter.bytes.indexOf('!');
    for (let length = 0; length <= bang; length++) {
      const code = refusal(() => decodeD0(easymeter.bytes.subarray(0, length), { receivedAt }));
      expect(length < 2 ? ['format', 'truncated'] : ['truncated'], `${length} bytes`).toContain(code);
    }
  });
});

describe('D0 data sets', () => {
  const readout = [
    '/ABC5METER',
    '',
    '0.0.0(12345678)',
    '1.8.0(001234.5*kWh)1.8.1(000100.25*kWh)',
    '1.8.2(0000.001*MWh)(2024-01-01 00:00)',
    '1.8.0*01(001000.0*kWh)',
    '1-0:2.8.0*96(000001.0*kWh)',
    '2.8.0(12345)',
    '32.7.0(230.1*V)31.7.0(001.25*A)14.7.0(49.98*Hz)',
    '1.7.0(-01.500*kW)',
    '3.8.0(5*m3)',
    'C.1.0(SERIAL)',
    'F.F(00000000)',
    '!',
  ].join('\n');

  it('short and full codes, several values, historical values aside, exact units, a signed power', () => {
    const decoded = decodeD0(text(`${readout}\n`), { receivedAt });
    expect(triples(decoded)).toEqual([
      ['energy.import', 1234500, 'Wh'],
      ['energy.import.t1', 100250, 'Wh'],
      ['energy.import.t2', 1000, 'Wh'],
      // No unit written: the OBIS table's (kWh).
      ['energy.export', 12345000, 'Wh'],
      ['voltage.l1', 230.1, 'V'],
      ['current.l1', 1.25, 'A'],
      ['frequency', 49.98, 'Hz'],
      ['power.export', 1500, 'W'],
    ]);
    expect(decoded.meterId).toBe('12345678');
    expect(decoded.extra).toMatchObject({ '1.8.0*01': '001000.0*kWh', '1-0:2.8.0*96': '000001.0*kWh', '3.8.0': '5*m3', 'C.1.0': 'SERIAL', 'F.F': '00000000' });
  });

  it('splits data sets and their parenthesised values', () => {
    const parsed = parseD0Readout(text('/XYZ6ID\n\x021.8.0(1*kWh)(2)\n(3)9.4(088*C&082*C)!\n\x03\x7f'), true);
    expect(parsed.framed).toBe(true);
    expect(parsed.dataSets).toEqual([
      { address: '1.8.0', values: ['1*kWh', '2', '3'] },
      { address: '9.4', values: ['088*C&082*C'] },
    ]);
  });

  it('divides exact decimals once: no binary fractions creep in', () => {
    expect(exactValue(521857825309n, -4)).toBe(52185782.5309);
    expect(exactValue(29055n, 3)).toBe(29055000);
    expect(exactValue(240860n, 6, 3600n)).toBe(240860e6 / 3600); // 240.860 GJ in Wh
    expect(parseDecimal('-0012.50')).toEqual({ mantissa: -125n * 10n, exponent: -2 });
    expect(parseDecimal('2013-11-28')).toBeUndefined();
    fc.assert(fc.property(fc.integer({ min: 0, max: 1e13 }), fc.integer({ min: 0, max: 7 }), (v, decimals) => {
      const digits = v.toString().padStart(decimals + 1, '0');
      const kwh = decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
      const decoded = decodeD0(text(`/ABC5X\n\n1.8.0(${kwh}*kWh)\n!\n`), { receivedAt }).readings[0]!.value;
      // Exactly the decimal kWh figure moved three places: what parsing the Wh text gives.
      return decoded === Number(`${kwh}e3`);
    }), { numRuns: 300 });
  });

  it('refuses malformed data blocks with "format"', () => {
    for (const bad of ['/ABC5X\n\n1.8.0 12\n!\n', '/ABC5X\n\n1.8.0(1(2)*kWh)\n!\n', '/ABC5X\n\n(12)\n!\n', '/ABC5X\n\n__proto__(1)\n!\n', '/A\n\n1.8.0(1)\n!\n', '/ABC5X\n\n9.4(1)\n!\n']) {
      expect(refusal(() => decodeD0(text(bad), { receivedAt })), bad).toBe('format');
    }
  });
});

describe('D0 fuzzing: a FrameError or finite readings, never another exception', () => {
  const outcome = (frame: Uint8Array, ignoreCrc: boolean): boolean => {
    try {
      return decodeD0(frame, { receivedAt, ignoreCrc }).readings.every((r) => Number.isFinite(r.value) && (r.value >= 0 || SIGNED_QUANTITIES.has(r.quantity)));
    } catch (error) {
      if (error instanceof FrameError) return true;
      throw error;
    }
  };

  it('random bytes behind an identification line', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, ignoreCrc) => outcome(Buffer.concat([Buffer.from('/ABC5X\r\n'), bytes]), ignoreCrc)), { numRuns: 400 });
  });

  it('random text from the D0 alphabet', () => {
    const alphabet = fc.constantFrom(...'0123456789.:-*&()!\r\n\x02\x03/ABCkWhVMJ'.split(''));
    fc.assert(fc.property(fc.array(alphabet, { maxLength: 300 }), fc.boolean(), (chars, ignoreCrc) => outcome(Buffer.from(`/ABC5X\r\n${chars.join('')}`, 'latin1'), ignoreCrc)), { numRuns: 400 });
  });

  it('single-byte mutations of each vector', () => {
    for (const vector of [heat.bytes, withValidBcc(heat.bytes), easymeter.bytes]) {
      fc.assert(fc.property(fc.nat(vector.length - 1), fc.integer({ min: 0, max: 255 }), fc.boolean(), (at, byte, ignoreCrc) => {
        const copy = Buffer.from(vector);
        copy[at] = byte;
        return outcome(copy, ignoreCrc);
      }), { numRuns: 300 });
    }
  });
});
