import { describe, expect, it } from 'vitest';
import { FrameError } from '../../src/meters/domain/decoder.js';
import { decodeFrame } from '../../src/meters/domain/registry.js';
import '../../src/meters/domain/decoders/index.js';
import { loadVector, vectorFiles, vectorIndex, hex } from './vectors.js';

/**
 * Every shared vector, through the same entry point ingestion uses (`--format auto`): each one
 * is recognised and decoded, or refused for exactly the reason its header gives. The values
 * themselves are checked per protocol in dsmr/dlms/mbus/sml/d0 tests.
 */
describe('every conformance vector in ../shared/vectors', () => {
  it('is listed in index.json', () => {
    expect(vectorFiles().sort()).toEqual(vectorIndex.map((e) => e.file).sort());
  });

  it.each(vectorIndex.map((e) => [e.file]))('%s', (file) => {
    const { entry, bytes } = loadVector(file);
    const options = {
      key: entry.key ? hex(entry.key) : undefined,
      authKey: entry.ak ? hex(entry.ak) : undefined,
      receivedAt: new Date('2026-11-23T12:00:00Z'),
    };
    if (entry.key === null) {
      expect(() => decodeFrame(bytes, options)).toThrow(expect.objectContaining({ code: 'key-required' }) as FrameError);
      return;
    }
    // An encrypted vector whose plaintext is a published example inherits that example's CRC.
    const plaintext = entry.plaintextFile ? vectorIndex.find((e) => e.file === entry.plaintextFile) : undefined;
    const badChecksum = entry.crcValid === false || entry.bccValid === false || plaintext?.crcValid === false;
    if (badChecksum) expect(() => decodeFrame(bytes, options)).toThrow(expect.objectContaining({ code: 'crc' }) as FrameError);
    const decoded = decodeFrame(bytes, { ...options, ignoreCrc: badChecksum });
    expect(decoded.readings.length).toBeGreaterThan(0);
    for (const reading of decoded.readings) {
      expect(Number.isFinite(reading.value), `${reading.quantity}`).toBe(true);
      expect(reading.ts).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
  });
});
