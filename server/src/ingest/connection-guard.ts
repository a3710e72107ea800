import type { AuthenticatedDevice } from './service.js';
import type { DeviceEvent as StoredEvent } from './store.js';

export interface ConnectLimit {
  /** Connections a device may open… */
  readonly max: number;
  /** …within this sliding window. */
  readonly windowMs: number;
}

/** An event the guard raises, about a device that authenticated. */
export interface DeviceEvent extends StoredEvent {
  readonly device: AuthenticatedDevice;
}

export interface ConnectionGuardOptions {
  readonly limit: ConnectLimit;
  /** Where the open connection with this client id comes from, if there is one. */
  readonly connectedAddress: (clientId: string) => string | undefined;
  readonly record: (event: DeviceEvent) => void;
  readonly now?: () => number;
}

/**
 * Watches the MQTT connections of devices that proved their identity. A connection that takes
 * over an open session of the same client id is recorded for the managers (a cloned device has
 * the same key); a device that connects more often than the limit allows is refused until its
 * window has room again, and that is recorded once per storm.
 */
export class ConnectionGuard {
  /** Per device, the instants of its recent admitted connections (at most `max`). */
  private readonly recent = new Map<string, number[]>();
  /** Devices refused in their current storm (recorded once). */
  private readonly storming = new Set<string>();
  private readonly now: () => number;
  private admitted = 0;

  constructor(private readonly options: ConnectionGuardOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Whether `device` may connect now, from `address`. */
  admit(device: AuthenticatedDevice, address: string | undefined): boolean {
    const now = this.now();
    const { max, windowMs } = this.options.limit;
    const times = (this.recent.get(device.id) ?? []).filter((t) => t > now - windowMs);
    if (times.length >= max) {
      this.recent.set(device.id, times);
      if (!this.storming.has(device.id)) {
        this.storming.add(device.id);
        this.options.record({ device, kind: 'reconnects-limited', address });
      }
      return false;
    }
    this.storming.delete(device.id);
    times.push(now);
    this.recent.set(device.id, times);
    const previous = this.options.connectedAddress(device.id);
    if (previous !== undefined) this.options.record({ device, kind: 'session-takeover', address, previousAddress: previous });
    if (++this.admitted % 1_000 === 0) this.forgetQuiet(now);
    return true;
  }

  /** Drops devices with no connection in the window, so the map does not grow with every device ever seen. */
  private forgetQuiet(now: number): void {
    for (const [id, times] of this.recent) {
      if (times.every((t) => t <= now - this.options.limit.windowMs)) {
        this.recent.delete(id);
        this.storming.delete(id);
      }
    }
  }
}
