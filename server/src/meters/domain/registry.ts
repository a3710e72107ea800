import { FrameError, type DecodedFrame, type DecodeOptions, type MeterDecoder } from './decoder.js';
import { withTotalRegisters } from './tariff-totals.js';

const decoders = new Map<string, MeterDecoder>();
const INTEGRITY_FAILURES: ReadonlySet<string> = new Set(['crc', 'auth-tag', 'key-required']);

export function registerDecoder(decoder: MeterDecoder): void {
  if (decoders.has(decoder.name)) throw new Error(`decoder ${decoder.name} registered twice`);
  decoders.set(decoder.name, decoder);
}

export function decoderNames(): string[] {
  return [...decoders.keys()];
}

export function getDecoder(name: string): MeterDecoder | undefined {
  return decoders.get(name);
}

/**
 * Decodes one frame with the named decoder. With `auto`, every decoder whose `detect` accepts
 * the frame is tried in registration order (an encrypted DLMS APDU may hold a DSMR telegram or
 * COSEM data, which only decryption tells) and the first one's refusal is reported; a
 * checksum, tag or key failure ends the search. Any failure
 * is a FrameError; a decoder bug surfacing as another exception is turned into one too, so a
 * hostile frame can never crash ingestion.
 */
export function decodeFrame(frame: Uint8Array, options: DecodeOptions & { format?: string }): DecodedFrame {
  const format = options.format ?? 'auto';
  if (format !== 'auto') {
    const decoder = decoders.get(format);
    if (!decoder) throw new FrameError('unsupported', `unknown frame format "${format}"`);
    return decodeWith(decoder, frame, options);
  }
  const candidates = [...decoders.values()].filter((d) => safeDetect(d, frame));
  if (candidates.length === 0) throw new FrameError('unsupported', 'no decoder recognises this frame');
  let firstRefusal: FrameError | undefined;
  for (const decoder of candidates) {
    try {
      return decodeWith(decoder, frame, options);
    } catch (error) {
      // A protocol that recognised its own checksum or tag and found it wrong has spoken: no
      // other decoder may then read the corrupted bytes its own way.
      if (INTEGRITY_FAILURES.has((error as FrameError).code)) throw error;
      firstRefusal ??= error as FrameError;
    }
  }
  throw firstRefusal!;
}

/** Every decoder's readings get the total registers a meter counting per tariff leaves out. */
function decodeWith(decoder: MeterDecoder, frame: Uint8Array, options: DecodeOptions): DecodedFrame {
  try {
    const decoded = decoder.decode(frame, options);
    return { ...decoded, readings: withTotalRegisters(decoded.readings) };
  } catch (error) {
    if (error instanceof FrameError) throw error;
    throw new FrameError('format', `${decoder.name}: ${(error as Error).message}`);
  }
}

function safeDetect(decoder: MeterDecoder, frame: Uint8Array): boolean {
  try {
    return decoder.detect(frame);
  } catch {
    return false;
  }
}
