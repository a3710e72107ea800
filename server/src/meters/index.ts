/**
 * Meters: the public API other capabilities use (the device agent decodes frames with it).
 * Importing it registers every decoder.
 */
import './domain/decoders/index.js';

export { FrameError, type FrameErrorCode, type DecodeOptions, type DecodedFrame, type MeterDecoder } from './domain/decoder.js';
export { decodeFrame, decoderNames, getDecoder, registerDecoder } from './domain/registry.js';

export { registerDecodeCommand } from './commands.js';
export { frameDecoder } from './frames.js';
export { meterKeysStore } from './store.js';
export { meterRoutes } from './routes.js';
