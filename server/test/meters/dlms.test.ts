import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecodedFrame, DecodeOptions, FrameError } from '../../src/meters/domain/decoder.js';
import { decodeDlms, detectDlms, dlmsApdu } from '../../src/meters/domain/decoders/dlms.js';
import { cosemDateTime } from '../../src/meters/domain/dlms/axdr.js';
import { decryptGloCiphering } from '../../src/meters/domain/dlms/glo-ciphering.js';
import { hdlcFrame, hdlcFrames } from '../../src/meters/domain/dlms/hdlc.js';
import { mbusDlmsSegments, mbusLongFrame } from '../../src/meters/domain/dlms/mbus-transport.js';
import { hex, loadVector, type Vector, expectReadingsOrRefusal, refusal } from './vectors.js';

const receivedAt = new Date('2026-11-23T12:00:00Z');
const NOE = 'at-netznoe-evn-kaifa-mbus.hex';
const E450 = 'dlms-lgz-e450-hdlc-gbt-1.hex';
const SALZBURG = 'at-salzburg-netz-kaifa-plain-apdu.hex';
const ISKRA = 'dlms-iskra-am550-hdlc-plain.hex';
const KSM = 'at-ksm-west-vorarlberg-mbus-nokey.hex';

const keysOf = (vector: Vector): DecodeOptions => ({
  key: vector.entry.key ? hex(vector.entry.key) : undefined,
  authKey: vector.entry.ak ? hex(vector.entry.ak) : undefined,
  receivedAt,
});
const rows = (d: DecodedFrame) => d.readings.map((r) => [r.quantity, r.value, r.unit, r.ts]);
const at = (ts: string, expected: [string, number, string][]) => expected.map(([q, v, u]) => [q, v, u, ts]);

describe('DLMS/COSEM conformance vectors: readings exactly as each file header gives them', () => {
  it('Netz NÖ (Kaifa MA309): two wired M-Bus segments, AES-GCM without tag, flat triplets with scaler-unit', () => {
    const vector = loadVector(NOE);
    const decoded = decodeDlms(vector.bytes, keysOf(vector));
    // 2021-09-27 09:47:15 local, deviation −120 min → 07:47:15 UTC.
    expect(rows(decoded)).toEqual(at('2021-09-27T07:47:15.000Z', [
      ['energy.import', 12937, 'Wh'], ['energy.export', 0, 'Wh'], ['power.import', 0, 'W'], ['power.export', 0, 'W'],
      ['voltage.l1', 233.7, 'V'], ['voltage.l2', 0, 'V'], ['voltage.l3', 0, 'V'],
      ['current.l1', 0, 'A'], ['current.l2', 0, 'A'], ['current.l3', 0, 'A'], ['power.factor', 1, '1'],
    ]));
    expect(decoded.meterId).toBe('181220000009');
    expect(decoded.format).toBe('dlms');
  });

  it('Netz NÖ: the transport and the ciphering header read as the header says, the plaintext is the published one', () => {
    const vector = loadVector(NOE);
    const segments = mbusDlmsSegments(vector.bytes, false);
    expect(segments.map((s) => [s.frame.length - 6, s.frame.control, s.frame.address, s.frame.ci, s.stsap, s.dtsap, s.part.length, s.final])).toEqual([
      [0xfa, 0x53, 0xff, 0x00, 0x01, 0x67, 245, false],
      [0x14, 0x53, 0xff, 0x11, 0x01, 0x67, 15, true],
    ]);
    const opened = decryptGloCiphering(dlmsApdu(vector.bytes, {}), keysOf(vector).key, undefined);
    expect(Buffer.from(opened.systemTitle).toString('latin1').slice(0, 3)).toBe('KFM');
    expect(opened.frameCounter).toBe(35);
    expect(opened.securityControl).toBe(0x20);
    expect(opened.authenticated).toBe(false);
    const published = vector.header.filter((l) => /^\s+[0-9a-f]{6,}$/.test(l)).map((l) => l.trim()).join('');
    expect(published.length).toBe(243 * 2);
    expect(opened.plaintext.toString('hex')).toBe(published);
  });

  it('Landis+Gyr E450: three HDLC frames, general block transfer, AES-GCM with authentication key, obis/value pairs without scaler', () => {
    const vector = loadVector(E450);
    const decoded = decodeDlms(vector.bytes, keysOf(vector));
    // The deviation is "not specified" (0x8000): the receive time stands, the meter's local time is kept aside.
    expect(rows(decoded)).toEqual(at(receivedAt.toISOString(), [
      ['energy.import', 4408736, 'Wh'], ['energy.import.t1', 3593919, 'Wh'], ['energy.import.t2', 814817, 'Wh'], ['power.import', 2893, 'W'],
      ['energy.export', 0, 'Wh'], ['energy.export.t1', 0, 'Wh'], ['energy.export.t2', 0, 'Wh'], ['power.export', 0, 'W'],
      ['energy.reactive.import', 1591784, 'varh'], ['energy.reactive.export', 1401005, 'varh'],
    ]));
    expect(decoded.extra).toEqual({
      meterLocalTime: '2022-02-21T17:37:30', '3.8.1': 1358750, '3.8.2': 233034, 'reactivePower.import': 1735,
      '4.8.1': 872483, '4.8.2': 528522, 'reactivePower.export': 0,
    });
    // No meter number in the list: the system title names the meter.
    expect(decoded.meterId).toBe('4C475A677370B177');
    const frames = hdlcFrames(vector.bytes, false);
    expect(frames.map((f) => [f.segmented, Buffer.from(f.destination).toString('hex'), Buffer.from(f.source).toString('hex'), f.control])).toEqual([
      [false, 'ceff', '03', 0x13], [false, 'ceff', '03', 0x13], [false, 'ceff', '03', 0x13],
    ]);
    const apdu = dlmsApdu(vector.bytes, {});
    expect(apdu.length).toBe(272);
    const opened = decryptGloCiphering(apdu, keysOf(vector).key, keysOf(vector).authKey);
    expect([opened.securityControl, opened.frameCounter, opened.authenticated]).toEqual([0x30, 0x00177bca, true]);
    expect(Buffer.from(opened.systemTitle).toString('latin1').slice(0, 3)).toBe('LGZ');
  });

  it('Salzburg Netz (Kaifa): plain DataNotification APDU, structures of obis, value, scaler-unit', () => {
    const decoded = decodeDlms(loadVector(SALZBURG).bytes, {});
    expect(rows(decoded)).toEqual(at('2022-11-12T15:54:00.000Z', [
      ['voltage.l1', 229.2, 'V'], ['voltage.l2', 231.6, 'V'], ['voltage.l3', 231.4, 'V'],
      ['current.l1', 1.65, 'A'], ['current.l2', 1.73, 'A'], ['current.l3', 0.37, 'A'],
      ['power.import', 714, 'W'], ['power.export', 0, 'W'], ['energy.import', 1327456, 'Wh'], ['energy.export', 0, 'Wh'],
      ['energy.reactive.import', 4818, 'varh'], ['energy.reactive.export', 376416, 'varh'],
    ]));
    expect(decoded.meterId).toBe('1KFM0200234804');
    expect(decoded.extra).toEqual({ '0:96.1.0': '1KFM0200234804', '0:42.0.0': 'KFM1200200234804' });
  });

  it('Iskra AM550: three HDLC segments (A8, A8, A0), LLC header, plain', () => {
    const vector = loadVector(ISKRA);
    const decoded = decodeDlms(vector.bytes, {});
    expect(rows(decoded)).toEqual(at('2023-04-01T19:32:35.000Z', [
      ['power.import', 182, 'W'], ['power.export', 0, 'W'], ['energy.import', 261927, 'Wh'], ['energy.export', 63832, 'Wh'],
      ['voltage.l1', 236.4, 'V'], ['voltage.l2', 234.4, 'V'], ['voltage.l3', 237, 'V'],
      ['current.l1', 0.63, 'A'], ['current.l2', 0.89, 'A'], ['current.l3', 0.68, 'A'],
      ['energy.import.t1', 82426, 'Wh'], ['energy.import.t2', 179501, 'Wh'], ['energy.export.t1', 50647, 'Wh'], ['energy.export.t2', 13185, 'Wh'],
    ]));
    expect(decoded.meterId).toBe('84895126');
    // A 6-byte value after an OBIS code is a value, not another code.
    expect(decoded.extra).toEqual({ '0:96.1.0': '84895126', '0:96.1.1': '160456' });
    expect(hdlcFrames(vector.bytes, false).map((f) => f.segmented)).toEqual([true, true, false]);
  });

  it('KSM West (no key published): the header reads as published, decoding asks for the key', () => {
    const { bytes } = loadVector(KSM);
    const [segment, ...more] = mbusDlmsSegments(bytes, false);
    expect(more).toEqual([]);
    expect([segment!.frame.length - 6, segment!.frame.control, segment!.frame.address, segment!.frame.ci, segment!.stsap, segment!.dtsap]).toEqual([93, 0x53, 0xff, 0x10, 0x01, 0x67]);
    const apdu = Buffer.from(segment!.part);
    expect(apdu.subarray(0, 16).toString('hex')).toBe('db08454c5365700000014d200000541f');
    expect(apdu.subarray(2, 5).toString('latin1')).toBe('ELS');
    expect(apdu.readUInt32BE(12)).toBe(21535);
    expect(apdu.length - 16).toBe(72);
    expect(refusal(() => decodeDlms(bytes, { receivedAt }))).toBe('key-required');
    expect(refusal(() => decryptGloCiphering(apdu, undefined, undefined))).toBe('key-required');
  });

  it('the same APDU decodes alike from HDLC, from its General Block Transfer blocks and bare', () => {
    const vector = loadVector(E450);
    const fromHdlc = decodeDlms(vector.bytes, keysOf(vector));
    const blocks = Buffer.concat(hdlcFrames(vector.bytes, false).map((f) => f.information)).subarray(3);
    expect(blocks[0]).toBe(0xe0);
    expect(detectDlms(blocks)).toBe(true);
    expect(decodeDlms(blocks, keysOf(vector))).toEqual(fromHdlc);
    expect(decodeDlms(dlmsApdu(vector.bytes, {}), keysOf(vector))).toEqual(fromHdlc);
    const noe = loadVector(NOE);
    expect(decodeDlms(dlmsApdu(noe.bytes, {}), keysOf(noe))).toEqual(decodeDlms(noe.bytes, keysOf(noe)));
  });

  it('detects HDLC, wired M-Bus with a DLMS CI and bare APDUs, not wired M-Bus application data', () => {
    for (const file of [NOE, E450, SALZBURG, ISKRA, KSM]) expect(detectDlms(loadVector(file).bytes)).toBe(true);
    expect(detectDlms(loadVector('mbus-wired-libmbus-eastron-sdm630.hex').bytes)).toBe(false);
    expect(detectDlms(Buffer.from('/ISk5MT382-1000\r\n'))).toBe(false);
  });
});

describe('Smarty vectors through the shared general-glo-ciphering', () => {
  const plain = loadVector('smarty-lux-spec-example-plain-athombv.txt').bytes;

  it('GCM with AAD = SC ‖ AK and with an empty AAD (no AK) both open to the published telegram', () => {
    for (const file of ['smarty-lux-encrypted-with-aad-athombv.hex', 'smarty-lux-encrypted-without-aad-athombv.hex']) {
      const vector = loadVector(file);
      const opened = decryptGloCiphering(vector.bytes, keysOf(vector).key, keysOf(vector).authKey);
      expect(opened.securityControl).toBe(0x30);
      expect(opened.frameCounter).toBe(0x11223344);
      expect(opened.plaintext.equals(plain.subarray(0, opened.plaintext.length))).toBe(true);
      expect(opened.plaintext.length).toBe(1485);
      expect(decryptGloCiphering).toBe(decryptGloCiphering);
    }
  });

  it('the wrong AAD, key or a changed byte fails the tag', () => {
    const vector = loadVector('smarty-lux-encrypted-with-aad-athombv.hex');
    const { key, authKey } = keysOf(vector);
    const wrong = Buffer.alloc(16, 0x42);
    expect(refusal(() => decryptGloCiphering(vector.bytes, key, undefined))).toBe('auth-tag');
    expect(refusal(() => decryptGloCiphering(vector.bytes, wrong, authKey))).toBe('auth-tag');
    expect(refusal(() => decryptGloCiphering(vector.bytes, key, wrong))).toBe('auth-tag');
    expect(refusal(() => decryptGloCiphering(loadVector('smarty-lux-encrypted-without-aad-athombv.hex').bytes, key, authKey))).toBe('auth-tag');
    for (const index of [20, 100, 1000, vector.bytes.length - 1]) {
      const copy = Buffer.from(vector.bytes);
      copy[index] = copy[index]! ^ 0x01;
      expect(refusal(() => decryptGloCiphering(copy, key, authKey))).toBe('auth-tag');
    }
    expect(refusal(() => decryptGloCiphering(vector.bytes, undefined, authKey))).toBe('key-required');
    expect(refusal(() => decryptGloCiphering(Buffer.concat([vector.bytes, Buffer.of(0)]), key, authKey))).toBe('format');
  });
});

describe('DLMS refuses what it cannot trust', () => {
  const e450 = loadVector(E450);
  const noe = loadVector(NOE);
  const iskra = loadVector(ISKRA);
  const salzburg = loadVector(SALZBURG);
  const ksm = loadVector(KSM);

  it('wrong keys: with SC 0x30 the tag does not verify; with SC 0x20 the plaintext is refused as not COSEM', () => {
    const wrong = Buffer.alloc(16, 0x42);
    expect(refusal(() => decodeDlms(e450.bytes, { ...keysOf(e450), key: wrong }))).toBe('auth-tag');
    expect(refusal(() => decodeDlms(e450.bytes, { ...keysOf(e450), authKey: wrong }))).toBe('auth-tag');
    expect(refusal(() => decodeDlms(e450.bytes, { ...keysOf(e450), authKey: undefined }))).toBe('auth-tag');
    expect(refusal(() => decodeDlms(e450.bytes, { receivedAt }))).toBe('key-required');
    expect(refusal(() => decodeDlms(noe.bytes, { receivedAt }))).toBe('key-required');
    // No tag: only the structure can tell. Every wrong key must end in 'format', never in readings.
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (key) => {
      fc.pre(!Buffer.from(key).equals(keysOf(noe).key!));
      expect(refusal(() => decodeDlms(noe.bytes, { key, receivedAt }))).toBe('format');
    }), { numRuns: 300, seed: 4711 });
    expect(refusal(() => decodeDlms(noe.bytes, { key: Buffer.alloc(15, 1), receivedAt }))).toBe('format');
  });

  it('a flipped bit in an HDLC frame fails its HCS or FCS', () => {
    for (const vector of [e450, iskra]) {
      let checked = 0;
      for (let frameAt = 0; frameAt < vector.bytes.length;) {
        const frame = hdlcFrame(vector.bytes, frameAt, false);
        // Control, HCS, information and FCS are covered by the check sequences: a flip there is 'crc'.
        const first = frameAt + 3 + frame.destination.length + frame.source.length;
        const last = frameAt + frame.size - 2;
        for (let index = frameAt; index <= last + 1; index++) {
          for (let bit = 0; bit < 8; bit++) {
            const copy = Buffer.from(vector.bytes);
            copy[index] = copy[index]! ^ (1 << bit);
            const code = refusal(() => decodeDlms(copy, keysOf(vector)));
            if (index >= first && index <= last) expect(code, `byte ${index} bit ${bit}`).toBe('crc');
            else expect(['crc', 'format', 'truncated'], `byte ${index} bit ${bit}`).toContain(code);
          }
          checked++;
        }
        frameAt += frame.size;
      }
      expect(checked).toBe(vector.bytes.length);
      expect(refusal(() => decodeDlms(vector.bytes, { ...keysOf(vector), ignoreCrc: true }))).toBe('accepted');
    }
  });

  it('a flipped bit in a wired M-Bus frame fails its checksum', () => {
    for (const vector of [noe, ksm]) {
      const segments = mbusDlmsSegments(vector.bytes, false);
      let frameAt = 0;
      for (const segment of segments) {
        // C, A, CI, data and the checksum itself: a flip there is 'crc'.
        for (let index = frameAt; index < frameAt + segment.frame.length; index++) {
          for (let bit = 0; bit < 8; bit++) {
            const copy = Buffer.from(vector.bytes);
            copy[index] = copy[index]! ^ (1 << bit);
            const code = refusal(() => decodeDlms(copy, keysOf(vector)));
            const covered = index >= frameAt + 4 && index <= frameAt + segment.frame.length - 2;
            if (covered) expect(code, `byte ${index} bit ${bit}`).toBe('crc');
            else expect(['format', 'truncated'], `byte ${index} bit ${bit}`).toContain(code);
          }
        }
        frameAt += segment.frame.length;
      }
    }
  });

  it('truncated frames are refused as truncated or malformed, at every length', () => {
    for (const vector of [e450, noe, salzburg, iskra, ksm]) {
      for (let cut = 0; cut < vector.bytes.length; cut++) {
        const code = refusal(() => decodeDlms(vector.bytes.subarray(0, cut), keysOf(vector)));
        expect(['truncated', 'format'], `${vector.entry.file} cut at ${cut}`).toContain(code);
      }
    }
  });

  it('a missing or repeated HDLC frame, GBT block or M-Bus segment is refused', () => {
    const frames: Buffer[] = [];
    for (let i = 0; i < e450.bytes.length;) {
      const size = hdlcFrame(e450.bytes, i, false).size;
      frames.push(e450.bytes.subarray(i, i + size));
      i += size;
    }
    const [one, two, three] = frames as [Buffer, Buffer, Buffer];
    expect(refusal(() => decodeDlms(Buffer.concat([one, three]), keysOf(e450)))).toBe('truncated');
    expect(refusal(() => decodeDlms(Buffer.concat([one, two, two, three]), keysOf(e450)))).toBe('truncated');
    expect(refusal(() => decodeDlms(Buffer.concat([one, two]), keysOf(e450)))).toBe('truncated');
    expect(refusal(() => decodeDlms(Buffer.concat([one, two, three, three]), keysOf(e450)))).toBe('format');
    const [first, second] = [noe.bytes.subarray(0, 256), noe.bytes.subarray(256)];
    expect(second[0]).toBe(0x68);
    expect(refusal(() => decodeDlms(Buffer.concat([first, first, second]), keysOf(noe)))).toBe('truncated');
    expect(refusal(() => decodeDlms(Buffer.concat([noe.bytes, second]), keysOf(noe)))).toBe('format');
    expect(refusal(() => decodeDlms(second, keysOf(noe)))).toBe('format');
    expect(refusal(() => mbusLongFrame(second, 0, false))).toBe('accepted');
  });

  it('without a usable time in the notification, the receive time is needed', () => {
    expect(refusal(() => decodeDlms(e450.bytes, { key: keysOf(e450).key, authKey: keysOf(e450).authKey }))).toBe('format');
    // The Salzburg APDU carries its own time: no receive time needed, and a given one is not used.
    expect(decodeDlms(salzburg.bytes, { receivedAt }).readings[0]!.ts).toBe('2022-11-12T15:54:00.000Z');
  });

  it('COSEM date-times: deviation is minutes from local time to UTC, 0x8000 unknown, wildcards unusable', () => {
    const dt = (h: string) => cosemDateTime(hex(h));
    expect(dt('07e60b0c0610360000ffc400')?.utc?.toISOString()).toBe('2022-11-12T15:54:00.000Z');
    expect(dt('07e5091b01092f0f00ff8880')?.utc?.toISOString()).toBe('2021-09-27T07:47:15.000Z');
    expect(dt('07e5091b01092f0f32ff8880')?.utc?.toISOString()).toBe('2021-09-27T07:47:15.500Z');
    expect(dt('07e6021501112d1eff800000')).toEqual({ utc: undefined, local: '2022-02-21T17:45:30' });
    expect(dt('ffff091b01092f0f00ff8880')).toBeUndefined();
    expect(dt('07e6021e01092f0f00ff8880')).toBeUndefined(); // 30 February
    expect(dt('07e60c1f01ff2f0f00ff8880')).toBeUndefined(); // hour not specified
  });

  it('survives random input and mutated vectors: readings or a FrameError, nothing else', () => {
    const starts = [0x7e, 0x68, 0x0f, 0xdb, 0xe0];
    fc.assert(fc.property(fc.constantFrom(...starts), fc.uint8Array({ maxLength: 400 }), fc.boolean(), (first, rest, ignoreCrc) => {
      expectReadingsOrRefusal(() => decodeDlms(Buffer.concat([Buffer.of(first), rest]), { receivedAt, key: Buffer.alloc(16, 1), ignoreCrc }));
    }), { numRuns: 400, seed: 1 });
    const vectors = [e450, noe, salzburg, iskra, ksm];
    fc.assert(fc.property(
      fc.constantFrom(...vectors), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.boolean(),
      (vector, edits, ignoreCrc) => {
        const copy = Buffer.from(vector.bytes);
        for (const [index, byte] of edits) copy[index % copy.length] = byte;
        expectReadingsOrRefusal(() => decodeDlms(copy, { ...keysOf(vector), ignoreCrc }));
      },
    ), { numRuns: 800, seed: 2 });
    // Structural mutations of the plain APDU, where no check sequence stops them early.
    fc.assert(fc.property(fc.nat(salzburg.bytes.length - 1), fc.integer({ min: 0, max: 255 }), (index, byte) => {
      const copy = Buffer.from(salzburg.bytes);
      copy[index] = byte;
      expectReadingsOrRefusal(() => decodeDlms(copy, { receivedAt }));
    }), { numRuns: 1500, seed: 3 });
    // Length fields announcing more than there is, and nesting bombs, end quickly.
    for (const frame of ['0f00000000000102' + '02'.repeat(300), '0f0000000000018fffffff', '0f000000000009830fffff', 'db08' + '00'.repeat(8) + '83ffffff', 'e0800001000083ffffff', '7ea7ff']) {
      expectReadingsOrRefusal(() => decodeDlms(hex(frame), { receivedAt, key: Buffer.alloc(16, 1), ignoreCrc: true }));
    }
  });
});

describe('DLMS security suite 1 (Kaifa MA309 in Tirol): AES-GCM-128 as in suite 0', () => {
  const noe = loadVector(NOE);
  const key = keysOf(noe).key!;
  const authKey = hex('00112233445566778899AABBCCDDEEFF');
  const plain = decryptGloCiphering(dlmsApdu(noe.bytes, {}), key, undefined);
  const expected = rows(decodeDlms(noe.bytes, keysOf(noe)));

  /** The Netz NÖ notification as a bare general-glo-ciphering APDU under another security control byte. */
  function ciphered(securityControl: number, options: { authKey?: Buffer } = {}): Buffer {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(plain.frameCounter);
    const iv = Buffer.concat([Buffer.from(plain.systemTitle), counter]);
    let body: Buffer;
    if (securityControl & 0x10) {
      const cipher = createCipheriv('aes-128-gcm', key, iv, { authTagLength: 12 });
      cipher.setAAD(options.authKey ? Buffer.concat([Buffer.of(securityControl), options.authKey]) : Buffer.alloc(0));
      body = Buffer.concat([cipher.update(plain.plaintext), cipher.final(), cipher.getAuthTag()]);
    } else {
      const ctr = createCipheriv('aes-128-ctr', key, Buffer.concat([iv, Buffer.of(0, 0, 0, 2)]));
      body = Buffer.concat([ctr.update(plain.plaintext), ctr.final()]);
    }
    const content = Buffer.concat([Buffer.of(securityControl), counter, body]);
    const length = content.length < 0x80 ? Buffer.of(content.length) : Buffer.of(0x82, content.length >> 8, content.length & 0xff);
    return Buffer.concat([Buffer.of(0xdb, 0x08), Buffer.from(plain.systemTitle), length, content]);
  }

  /** The wired M-Bus vector itself with its security control byte changed and the segment's checksum recomputed. */
  function noeWithSecurityControl(securityControl: number): Buffer {
    const copy = Buffer.from(noe.bytes);
    const title = copy.indexOf(Buffer.concat([Buffer.of(0xdb, 0x08), Buffer.from(plain.systemTitle)]));
    const lengthAt = title + 10;
    const scAt = lengthAt + (copy[lengthAt]! < 0x80 ? 1 : 1 + (copy[lengthAt]! & 0x7f));
    expect(copy[scAt]).toBe(0x20);
    copy[scAt] = securityControl;
    const userDataLength = copy[1]!;
    let sum = 0;
    for (let i = 4; i < 4 + userDataLength; i++) sum = (sum + copy[i]!) & 0xff;
    copy[4 + userDataLength] = sum;
    return copy;
  }

  it('SC 0x21 (encryption only): the Tirol frame decodes to the same readings as suite 0', () => {
    const frame = noeWithSecurityControl(0x21);
    expect(rows(decodeDlms(frame, keysOf(noe)))).toEqual(expected);
    expect(decryptGloCiphering(dlmsApdu(frame, {}), key, undefined).securityControl).toBe(0x21);
    expect(rows(decodeDlms(ciphered(0x21), { key, receivedAt }))).toEqual(expected);
  });

  it('SC 0x31 (authenticated encryption): the tag is checked, with and without an authentication key', () => {
    expect(rows(decodeDlms(ciphered(0x31, { authKey }), { key, authKey, receivedAt }))).toEqual(expected);
    expect(rows(decodeDlms(ciphered(0x31), { key, receivedAt }))).toEqual(expected);
    expect(refusal(() => decodeDlms(ciphered(0x31, { authKey }), { key, authKey: Buffer.alloc(16, 7), receivedAt }))).toBe('auth-tag');
    expect(refusal(() => decodeDlms(ciphered(0x31, { authKey }), { key: Buffer.alloc(16, 7), authKey, receivedAt }))).toBe('auth-tag');
    const flipped = ciphered(0x31, { authKey });
    flipped[30] = flipped[30]! ^ 1;
    expect(refusal(() => decodeDlms(flipped, { key, authKey, receivedAt }))).toBe('auth-tag');
  });

  it('what is really unsupported stays refused, with the reason', () => {
    const reason = (run: () => unknown) => {
      try { run(); } catch (error) { return `${(error as FrameError).code}: ${(error as Error).message}`; }
      return 'accepted';
    };
    expect(reason(() => decodeDlms(ciphered(0x22), { key, receivedAt }))).toMatch(/^unsupported: security suite 2 \(AES-GCM-256/);
    expect(reason(() => decodeDlms(ciphered(0x25), { key, receivedAt }))).toMatch(/^unsupported: security suite 5/);
    expect(reason(() => decodeDlms(ciphered(0xa1), { key, receivedAt }))).toMatch(/^unsupported: compressed/);
    expect(reason(() => decodeDlms(ciphered(0x11), { key, receivedAt }))).toMatch(/^unsupported: authentication without encryption/);
    expect(refusal(() => decodeDlms(noeWithSecurityControl(0x21), { receivedAt }))).toBe('key-required');
  });
});
