/**
 * Logs messages refused from devices, at most one line per device per window: a device sending
 * the same broken message many times a second must not flood the log, yet the first refusal and
 * how many followed are always told. The counts and the last error per device are in the API
 * (device state); this is what an operator reading the log sees.
 */
export interface RefusalLogOptions {
  /** Where a line goes, with the device it is about (default: standard error). */
  write?: (line: string, fields: { deviceId: string }) => void;
  /** The clock (tests). */
  now?: () => number;
  /** One line per device per this many milliseconds (default a minute). */
  windowMs?: number;
  /** Devices tracked at most; beyond it the quietest are forgotten (a storm of device ids stays bounded). */
  maxDevices?: number;
}

interface Quiet {
  loggedAt: number;
  suppressed: number;
}

export class RefusalLog {
  private readonly write: (line: string, fields: { deviceId: string }) => void;
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly maxDevices: number;
  private readonly devices = new Map<string, Quiet>();

  constructor(options: RefusalLogOptions = {}) {
    this.write = options.write ?? ((line) => process.stderr.write(`${line}\n`));
    this.now = options.now ?? Date.now;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxDevices = options.maxDevices ?? 10_000;
  }

  refused(deviceId: string, reason: string): void {
    const at = this.now();
    const quiet = this.devices.get(deviceId);
    if (quiet && at - quiet.loggedAt < this.windowMs) {
      quiet.suppressed++;
      return;
    }
    const since = quiet?.suppressed ? ` (and ${quiet.suppressed} more since the last line about it)` : '';
    this.write(`gridshare: device ${deviceId}: message refused: ${oneLine(reason)}${since}`, { deviceId });
    this.devices.delete(deviceId);
    this.devices.set(deviceId, { loggedAt: at, suppressed: 0 });
    if (this.devices.size > this.maxDevices) this.devices.delete(this.devices.keys().next().value!);
  }
}

/** A reason quotes what the device sent: control characters and line breaks must not forge log lines. */
const oneLine = (text: string) => text.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 300);
