import { FrameError, type DecodedFrame, type DecodeOptions, type MeterDecoder } from './decoder.js';

const decoders = new Map<string, MeterDecoder>();

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
 * Decodes one frame with the named decoder, or the first whose `detect` accepts it. Any failure
 * is a FrameError; a decoder bug surfacing as another exception is turned into one too, so a
 * hostile frame can never crash ingestion.
 */
export function decodeFrame(frame: Uint8Array, options: DecodeOptions & { format?: string }): DecodedFrame {
  const format = options.format ?? 'auto';
  const decoder = format === 'auto' ? [...decoders.values()].find((d) => safeDetect(d, frame)) : decoders.get(format);
  if (!decoder) throw new FrameError('unsupported', format === 'auto' ? 'no decoder recognises this frame' : `unknown frame format "${format}"`);
  try {
    return decoder.decode(frame, options);
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
