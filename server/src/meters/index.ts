/**
 * Meters: the public API other capabilities use (the device agent decodes frames with it).
 * Importing it registers every decoder.
 */
import './decoders/index.js';

export { FrameError, type FrameErrorCode, type DecodeOptions, type DecodedFrame, type MeterDecoder } from './decoder.js';
export { decodeFrame, decoderNames, getDecoder, registerDecoder } from './registry.js';
export type { Reading, Quantity } from '../readings/quantities.js';
