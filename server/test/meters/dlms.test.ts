import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameError, type DecodedFrame, type DecodeOptions } from '../../src/meters/decoder.js';
import { decodeDlms, dlmsApdu } from '../../src/meters/decoders/dlms.js';
import { decodeSmarty } from '../../src/meters/decoders/smarty.js';
import { decipherGlo } from '../../src/meters/dlms/glo-ciphering.js';
import { mbusLongFrame } from '../../src/meters/dlms/transport.js';
import { hex, loadVector } from './vectors.js';

const receivedAt = new Date('2026-11-23T12:00:00Z');
const keysOf = (file: string): DecodeOptions => {
  const { entry } = loadVector(file);
  return { key: entry.key ? hex(entry.key) : undefined, authKey: entry.ak ? hex(entry.ak) : undefined, receivedAt };
};
const valuesOf = (d: DecodedFrame) => Object.fromEntries(d.readings.map((r) => [r.quantity, r.value]));
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof FrameError) return error.code;
    throw error;
  }
  return 'accepted';
}

describe('DLMS/COSEM conformance vectors (expected values from each file header)', () => {
  it('Netz NÖ (Kaifa, wired M-Bus in two segments, AES-GCM without tag)', () => {
    const file = 'at-netznoe-evn-kaifa-mbus.hex';
    const decoded = decodeDlms(loadVector(file).bytes, keysOf(file));
    expect(valuesOf(decoded)).toEqual({
      'energy.import': 12937, 'energy.export': 0, 'power.import': 0, 'power.export': 0,
      'voltage.l1': 233.7, 'voltage.l2': 0, 'voltage.l3': 0, 'current.l1': 0, 'current.l2': 0, 'current.l3': 0, 'power.factor': 1,
    });
    // 2021-09-27 09:47:15 local, deviation −120 min → 07:47:15 UTC.
    expect(decoded.readings[0]!.ts).toBe('2021-09-27T07:47:15.000Z');
    expect(decoded.meterId).toBe('181220000009');
    const plaintext = decipherGlo(dlmsApdu(loadVector(file).bytes, {}), keysOf(file).key, undefined).plaintext.toString('hex');
    expect(plaintext.startsWith('0f8006870e0c07e5091b01092f0f00ff88800223090c07e5091b01092f0f00ff888009060100010800ff0600003289')).toBe(true);
    expect(plaintext.endsWith('090c313831323230303030303039')).toBe(true);
  });

  it('Landis+Gyr E450 (HDLC, general block transfer, AES-GCM with authentication key)', () => {
    const file = 'dlms-lgz-e450-hdlc-gbt-1.hex';
    const decoded = decodeDlms(loadVector(file).bytes, keysOf(file));
    expect(valuesOf(decoded)).toEqual({
      'energy.import': 4408736, 'energy.import.t1': 3593919, 'energy.import.t2': 814817, 'power.import': 2893,
      'energy.export': 0, 'energy.export.t1': 0, 'energy.export.t2': 0, 'power.export': 0,
      'energy.reactive.import': 1591784, 'energy.reactive.export': 1401005,
    });
    expect(decoded.extra).toMatchObject({ '3.8.1': 1358750, '3.8.2': 233034, 'reactivePower.import': 1735, '4.8.1': 872483, '4.8.2': 528522, 'reactivePower.export': 0 });
    // The deviation is "not specified": the meter's local time is kept aside, the receive time used.
    expect(decoded.extra).toMatchObject({ meterLocalTime: '2022-02-21T17:37:30' });
    expect(decoded.readings[0]!.ts).toBe(receivedAt.toISOString());
  });

  it('Salzburg Netz (Kaifa, plain DataNotification APDU)', () => {
    const decoded = decodeDlms(loadVector('at-salzburg-netz-kaifa-plain-apdu.hex').bytes, { receivedAt });
    expect(valuesOf(decoded)).toEqual({
      'voltage.l1': 229.2, 'voltage.l2': 231.6, 'voltage.l3': 231.4, 'current.l1': 1.65, 'current.l2': 1.73, 'current.l3': 0.37,
      'power.import': 714, 'power.export': 0, 'energy.import': 1327456, 'energy.export': 0,
      'energy.reactive.import': 4818, 'energy.reactive.export': 376416,
    });
    expect(decoded.readings[0]!.ts).toBe('2022-11-12T15:54:00.000Z');
    expect(decoded.meterId).toBe('1KFM0200234804');
    expect(decoded.extra).toMatchObject({ '0:42.0.0': 'KFM1200200234804' });
  });

  it('Iskra AM550 (three HDLC segments, plain)', () => {
    const decoded = decodeDlms(loadVector('dlms-iskra-am550-hdlc-plain.hex').bytes, { receivedAt });
    expect(valuesOf(decoded)).toEqual({
      'power.import': 182, 'power.export': 0, 'energy.import': 261927, 'energy.export': 63832,
      'voltage.l1': 236.4, 'voltage.l2': 234.4, 'voltage.l3': 237, 'current.l1': 0.63, 'current.l2': 0.89, 'current.l3': 0.68,
      'energy.import.t1': 82426, 'energy.import.t2': 179501, 'energy.export.t1': 50647, 'energy.export.t2': 13185,
    });
    expect(decoded.readings[0]!.ts).toBe('2023-04-01T19:32:35.000Z');
    expect(decoded.meterId).toBe('84895126');
  });

  it('KSM West (no key published): framing reads, decoding asks for the key', () => {
    const { bytes } = loadVector('at-ksm-west-vorarlberg-mbus-nokey.hex');
    const frame = mbusLongFrame(bytes, 0, false);
    expect({ l: frame.length - 6, c: frame.control, a: frame.address, ci: frame.ci }).toEqual({ l: 0x5d, c: 0x53, a: 0xff, ci: 0x10 });
    expect(Buffer.from(frame.data.subarray(0, 13)).toString('hex')).toBe('0167db08454c5365700000014d');
    expect(refusal(() => decodeDlms(bytes, { receivedAt }))).toBe('key-required');
  });

  it('Smarty (Luxembourg): GCM with and without AAD opens to the DSMR telegram', () => {
    const plain = loadVector('smarty-lux-spec-example-plain-athombv.txt').bytes;
    for (const file of ['smarty-lux-encrypted-with-aad-athombv.hex', 'smarty-lux-encrypted-without-aad-athombv.hex']) {
      const opened = decipherGlo(loadVector(file).bytes, keysOf(file).key, keysOf(file).authKey);
      expect(opened.plaintext.length).toBe(1485);
      expect(opened.plaintext.equals(plain.subarray(0, 1485))).toBe(true);
      expect(opened.frameCounter).toBe(0x11223344);
      // The published telegram's CRC is wrong, and stays wrong once decrypted.
      expect(refusal(() => decodeSmarty(loadVector(file).bytes, keysOf(file)))).toBe('crc');
      const decoded = decodeSmarty(loadVector(file).bytes, { ...keysOf(file), ignoreCrc: true });
      expect(valuesOf(decoded)).toMatchObject({ 'energy.import': 25653, 'energy.export': 40, 'gas.volume': 0.006 });
    }
  });
});

describe('DLMS refuses what it cannot trust', () => {
  const e450 = loadVector('dlms-lgz-e450-hdlc-gbt-1.hex');
  const noe = loadVector('at-netznoe-evn-kaifa-mbus.hex');
  const smarty = loadVector('smarty-lux-encrypted-with-aad-athombv.hex');

  it('wrong keys: a tag that does not verify, or (no tag) a plaintext that is not COSEM', () => {
    const wrong = Buffer.alloc(16, 0x42);
    expect(refusal(() => decodeDlms(e450.bytes, { ...keysOf(e450.entry.file), key: wrong }))).toBe('auth-tag');
    expect(refusal(() => decodeDlms(e450.bytes, { ...keysOf(e450.entry.file), authKey: wrong }))).toBe('auth-tag');
    expect(refusal(() => decodeSmarty(smarty.bytes, { ...keysOf(smarty.entry.file), key: wrong }))).toBe('auth-tag');
    // Without AAD the with-AAD vector does not verify either.
    expect(refusal(() => decodeSmarty(smarty.bytes, { key: keysOf(smarty.entry.file).key }))).toBe('auth-tag');
    expect(['format', 'truncated']).toContain(refusal(() => decodeDlms(noe.bytes, { key: wrong, receivedAt })));
    expect(refusal(() => decodeDlms(e450.bytes, { receivedAt }))).toBe('key-required');
  });

  it('a flipped bit in an HDLC or M-Bus frame fails its check sequence', () => {
    fc.assert(fc.property(fc.constantFrom(e450, noe, loadVector('dlms-iskra-am550-hdlc-plain.hex')), fc.nat(), fc.integer({ min: 0, max: 7 }), (vector, at, bit) => {
      const copy = Buffer.from(vector.bytes);
      const index = at % copy.length;
      copy[index] = copy[index]! ^ (1 << bit);
      const code = refusal(() => decodeDlms(copy, keysOf(vector.entry.file)));
      expect(['crc', 'format', 'truncated']).toContain(code);
    }), { numRuns: 300 });
  });

  it('a flipped ciphertext bit under GCM with tag is an auth-tag failure', () => {
    const copy = Buffer.from(smarty.bytes);
    copy[100] = copy[100]! ^ 1;
    expect(refusal(() => decodeSmarty(copy, keysOf(smarty.entry.file)))).toBe('auth-tag');
  });

  it('truncated frames are refused', () => {
    for (const vector of [e450, noe, loadVector('at-salzburg-netz-kaifa-plain-apdu.hex')]) {
      for (const cut of [1, 5, 20, vector.bytes.length - 3]) {
        expect(['truncated', 'format', 'crc']).toContain(refusal(() => decodeDlms(vector.bytes.subarray(0, cut), { ...keysOf(vector.entry.file), receivedAt })));
      }
    }
  });

  it('survives random and mutated input: readings or a FrameError, nothing else', () => {
    const apdu = loadVector('at-salzburg-netz-kaifa-plain-apdu.hex').bytes;
    const starts = [0x7e, 0x68, 0x0f, 0xdb, 0xe0];
    fc.assert(fc.property(fc.constantFrom(...starts), fc.uint8Array({ maxLength: 400 }), (first, rest) => {
      try {
        decodeDlms(Buffer.concat([Buffer.of(first), rest]), { receivedAt, key: Buffer.alloc(16, 1), ignoreCrc: true });
      } catch (error) {
        expect(error).toBeInstanceOf(FrameError);
      }
    }), { numRuns: 500 });
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(apdu.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (edits) => {
      const copy = Buffer.from(apdu);
      for (const [at, byte] of edits) copy[at] = byte;
      try {
        for (const r of decodeDlms(copy, { receivedAt }).readings) expect(Number.isFinite(r.value)).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(FrameError);
      }
    }), { numRuns: 500 });
  });
});
