import { randomBytes } from 'node:crypto';
import { DEVICE_ID_PATTERN } from '@gridshare/contract/common';
import type { Broadcast } from '../platform/store/broadcast.js';

/** The channel on which processes on one PostgreSQL name the devices that changed. */
export const DEVICE_CHANGES_CHANNEL = 'gridshare_devices';

/** A device id as the API accepts one: anything else on the channel is not a change of ours. */
const DEVICE_ID = new RegExp(DEVICE_ID_PATTERN);

/**
 * Tells the other processes of an installation which device changed (disabled, re-keyed, rebound,
 * removed, its community suspended), so that each forgets at once what it cached of it — its
 * directory entry, its last register values, its connection to an embedded broker — where its own
 * cache would keep the old record for up to 10 s. Not durable: a process that misses a notification
 * (its listening connection was down) keeps the entry until it expires, as without this.
 */
export class DeviceChanges {
  /** This process's name in the broadcast: it forgets its own changes itself, at once. */
  private readonly origin = randomBytes(8).toString('hex');

  private constructor(private readonly broadcast: Broadcast, private readonly log: (line: string) => void) {}

  /** Listens for the other processes' changes, calling `forget` with each device's id. */
  static async connect(broadcast: Broadcast, forget: (deviceId: string) => void, log: (line: string) => void): Promise<DeviceChanges> {
    const changes = new DeviceChanges(broadcast, log);
    await broadcast.listen(DEVICE_CHANGES_CHANNEL, (payload) => {
      const parts = payload.split(' ');
      const [origin, deviceId] = parts;
      if (parts.length === 2 && origin !== changes.origin && DEVICE_ID.test(deviceId!)) forget(deviceId!);
    });
    return changes;
  }

  /** A device changed in this process. */
  announce(deviceId: string): void {
    this.broadcast.publish(DEVICE_CHANGES_CHANNEL, `${this.origin} ${deviceId}`)
      .catch((error: Error) => this.log(`gridshare: the other processes were not told that device ${deviceId} changed (their cache expires within 10 s): ${error.message}`));
  }
}
