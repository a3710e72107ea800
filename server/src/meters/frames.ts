import type { Queryable } from '../platform/store/db.js';
import type { FrameDecoder } from '../ingest/index.js';
import { MessageRejected } from '../readings/index.js';
import { FrameError } from './domain/decoder.js';
import { decodeFrame } from './domain/registry.js';
import { readMeterKeys } from './store.js';
import type { SecretBox } from '../secrets/index.js';
import './domain/decoders/index.js';

/**
 * Frames from devices are decoded with the keys stored for the meter behind the device. A
 * frame that fails (checksum, tag, format) is refused with the decoder's reason.
 */
export function frameDecoder(db: Queryable, secrets: SecretBox): FrameDecoder {
  return async (deviceId, format, frame) => {
    const keys = await readMeterKeys(db, secrets, deviceId);
    try {
      const decoded = decodeFrame(frame, {
        format,
        key: keys ? Buffer.from(keys.encryptionKey, 'hex') : undefined,
        authKey: keys?.authenticationKey ? Buffer.from(keys.authenticationKey, 'hex') : undefined,
        receivedAt: new Date(),
      });
      return decoded.readings;
    } catch (error) {
      if (error instanceof FrameError) throw new MessageRejected('bad-frame', `${error.code}: ${error.message}`);
      throw error;
    }
  };
}
