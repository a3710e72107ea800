import type { Queryable } from '../store/db.js';
import type { FrameDecoder } from '../ingest/service.js';
import { MessageRejected } from '../readings/message.js';
import { FrameError } from './decoder.js';
import { decodeFrame } from './registry.js';
import './decoders/index.js';

/**
 * Frames from devices are decoded with the keys stored for the meter behind the device. A
 * frame that fails (checksum, tag, format) is refused with the decoder's reason.
 */
export function frameDecoder(db: Queryable): FrameDecoder {
  return async (deviceId, format, frame) => {
    const rows = await db.query<{ encryption_key: string; authentication_key: string | null }>(
      'SELECT encryption_key, authentication_key FROM meter_keys WHERE device_id = $1', [deviceId]);
    const keys = rows[0];
    try {
      const decoded = decodeFrame(frame, {
        format,
        key: keys ? Buffer.from(keys.encryption_key, 'hex') : undefined,
        authKey: keys?.authentication_key ? Buffer.from(keys.authentication_key, 'hex') : undefined,
        receivedAt: new Date(),
      });
      return decoded.readings;
    } catch (error) {
      if (error instanceof FrameError) throw new MessageRejected('bad-frame', `${error.code}: ${error.message}`);
      throw error;
    }
  };
}
