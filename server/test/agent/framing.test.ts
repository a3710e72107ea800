import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createFramer, framingNames } from '../../src/agent/domain/framing/registry.js';
import { acknowledgement, parseIdentification, signOnRequest } from '../../src/agent/domain/d0-handshake.js';
import { meterProfile, profileNames } from '../../src/agent/domain/profiles.js';
import { decodeFrame } from '../../src/meters/index.js';
import { loadVector } from '../meters/vectors.js';
import { dsmrTelegramAt } from '../meters/telegrams.js';
import { d0ReadoutBlock } from './support/meter-line.js';

/** Feeds `stream` to a fresh framer in the given chunk sizes; all frames and skipped bytes. */
function frame(name: string, stream: Uint8Array, chunks: number[] = [stream.length]) {
  const framer = createFramer(name);
  const frames: Buffer[] = [];
  let skipped = 0;
  let at = 0;
  let k = 0;
  while (at < stream.length) {
    const size = Math.max(1, chunks[k++ % chunks.length]!);
    const out = framer.push(stream.subarray(at, at + size));
    frames.push(...out.frames.map((f) => Buffer.from(f)));
    skipped += out.skipped;
    at += size;
  }
  return { frames, skipped };
}

const noise = Buffer.from([0x00, 0xff, 0x21, 0x0a, 0x68, 0x03, 0x1b, 0x1b]);

const cases: { framing: string; frames: Buffer[] }[] = [
  { framing: 'text', frames: [dsmrTelegramAt(new Date('2026-11-30T10:00:00Z'), 1_000), dsmrTelegramAt(new Date('2026-11-30T10:00:10Z'), 1_001), loadVector('dsmr-v5-two-mbus-ndokter.txt').bytes] },
  { framing: 'mbus', frames: [loadVector('at-netznoe-evn-kaifa-mbus.hex').bytes, loadVector('mbus-wired-libmbus-eastron-sdm630.hex').bytes, loadVector('mbus-wired-libmbus-itron-gas.hex').bytes] },
  { framing: 'sml', frames: [loadVector('sml-emh-smartmeter-obis.hex').bytes, loadVector('sml-holley-kermit-crc-smllib.hex').bytes] },
];

describe('frame delimiting on a serial byte stream', () => {
  it('registers a framer for every profile', () => {
    for (const name of profileNames()) expect(framingNames()).toContain(meterProfile(name)!.framing);
  });

  for (const { framing, frames } of cases) {
    it(`${framing}: finds the vectors' frames whole, however the bytes are chunked, with noise between them`, () => {
      const stream = Buffer.concat(frames.flatMap((f) => [noise, f]));
      fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 20 }), (chunks) => {
        const out = frame(framing, stream, chunks);
        expect(out.frames).toEqual(frames);
        expect(out.skipped).toBe(noise.length * frames.length);
      }), { numRuns: 60 });
    });

    it(`${framing}: skips a frame cut off at the start (the agent opened the port mid-frame)`, () => {
      const first = frames[0]!;
      const stream = Buffer.concat([first.subarray(Math.floor(first.length / 2)), ...frames.slice(1)]);
      const out = frame(framing, stream);
      expect(out.frames).toEqual(frames.slice(1));
      expect(out.skipped).toBe(first.length - Math.floor(first.length / 2));
    });
  }

  it('text: a telegram cut off by the next one is dropped and the next read', () => {
    const [a, b] = cases[0]!.frames as [Buffer, Buffer];
    const out = frame('text', Buffer.concat([a.subarray(0, 300), b]));
    expect(out.frames).toEqual([b]);
    expect(out.skipped).toBe(300);
  });

  it('text: D0 mode D push and mode C readouts end where the protocol says (gateway filler skipped)', () => {
    const easy = loadVector('d0-moded-easymeter-q3d-ndokter.txt').bytes;
    const out = frame('text', Buffer.concat([easy, easy]));
    expect(out.frames).toHaveLength(2);
    expect(decodeFrame(out.frames[0]!, { format: 'd0', receivedAt: new Date() }).readings.map((r) => r.quantity)).toContain('energy.import');
    const { identification, block } = d0ReadoutBlock();
    const readout = Buffer.concat([Buffer.from(`${identification}\r\n`, 'latin1'), block]);
    // The "!" inside the data block does not end a readout: only ETX and its BCC do.
    expect(frame('text', Buffer.concat([readout, noise]), [7]).frames).toEqual([readout]);
  });

  it('mbus: segments of one DLMS APDU come out together; a lone middle segment is dropped', () => {
    const netz = cases[1]!.frames[0]!;
    const firstLength = netz[1]! + 6;
    const out = frame('mbus', Buffer.concat([netz.subarray(0, firstLength), netz]));
    expect(out.frames).toEqual([netz]);
    expect(out.skipped).toBe(firstLength);
  });

  it('never throws and never returns more bytes than it was given, whatever comes down the line', () => {
    fc.assert(fc.property(fc.constantFrom('text', 'mbus', 'sml'), fc.uint8Array({ maxLength: 2_000 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }), (name, bytes, chunks) => {
      const out = frame(name, bytes, chunks);
      expect(out.frames.reduce((sum, f) => sum + f.length, 0) + out.skipped).toBeLessThanOrEqual(bytes.length);
    }), { numRuns: 300 });
  });

  it('drops a frame that grows past the size limit instead of buffering forever', () => {
    const framer = createFramer('text', { maxFrameBytes: 1_000 });
    let skipped = 0;
    for (let i = 0; i < 10; i++) skipped += framer.push(Buffer.from(`/${'x'.repeat(499)}`)).skipped;
    expect(skipped).toBeGreaterThan(3_000);
    const telegram = cases[0]!.frames[0]!;
    const out = framer.push(Buffer.concat([Buffer.from('\r\n'), telegram]));
    expect(Buffer.from(out.frames.at(-1)!)).toEqual(telegram);
  });
});

describe('IEC 62056-21 sign-on', () => {
  it('reads the baud character: mode C digits, mode B letters, mode A otherwise', () => {
    expect(parseIdentification('/SIE5WR5')).toMatchObject({ manufacturer: 'SIE', mode: 'C', baudRate: 9_600, identification: 'WR5' });
    expect(parseIdentification('/ESY5Q3DB1024 V3.04')).toMatchObject({ manufacturer: 'ESY', mode: 'C', baudRate: 9_600 });
    expect(parseIdentification('/SIEC2WR5')).toMatchObject({ mode: 'B', baudRate: 2_400 });
    expect(parseIdentification('/ISk5\\2MT382-1000')).toMatchObject({ mode: 'C', baudRate: 9_600 });
    expect(parseIdentification('garbage')).toBeUndefined();
    expect(parseIdentification('/AB')).toBeUndefined();
  });

  it('asks with "/?!" and acknowledges a mode C meter with ACK 0 Z 0', () => {
    expect(Buffer.from(signOnRequest()).toString('latin1')).toBe('/?!\r\n');
    expect(Buffer.from(signOnRequest('12345678')).toString('latin1')).toBe('/?12345678!\r\n');
    expect(() => signOnRequest('!/')).toThrow(/address/);
    expect(Buffer.from(acknowledgement(parseIdentification('/SIE6WR5')!)).toString('latin1')).toBe('\x06060\r\n');
    expect(acknowledgement(parseIdentification('/SIEC2WR5')!)).toHaveLength(0);
  });
});
