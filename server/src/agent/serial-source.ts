import { SerialPort } from 'serialport';
import { createFramer } from './domain/framing/registry.js';
import { acknowledgement, parseIdentification, signOnRequest, SIGN_ON_BAUD } from './domain/d0-handshake.js';
import { reconnectDelayMs } from './domain/rate.js';
import type { MeterProfile } from './domain/profiles.js';
import type { Logger } from './log.js';

export interface SerialSourceOptions {
  readonly path: string;
  readonly profile: MeterProfile;
  readonly pollIntervalMs: number;
  readonly onFrame: (frame: Uint8Array, receivedAtMs: number) => void;
  readonly onSkipped: (bytes: number) => void;
  readonly onOpen: (open: boolean) => void;
  readonly log: Logger;
}

const IDENTIFICATION_TIMEOUT_MS = 3_000;
const READOUT_TIMEOUT_MS = 30_000;

/**
 * One meter on one serial port: opens it at the profile's line settings, delimits frames and
 * hands them on; reopens after the adapter was unplugged. A mode C meter is asked for a readout
 * every poll interval (sign-on at 300 Bd, then its own speed).
 */
export class SerialSource {
  private port: SerialPort | undefined;
  private stopped = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SerialSourceOptions) {}

  start(): void {
    this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private open(): void {
    if (this.stopped) return;
    const { path, profile, log } = this.options;
    const port = new SerialPort({
      path,
      baudRate: profile.line.baudRate,
      dataBits: profile.line.dataBits,
      parity: profile.line.parity,
      stopBits: profile.line.stopBits,
      autoOpen: false,
    });
    this.port = port;
    port.open((error) => {
      if (error) {
        log.warn(`serial ${path}: ${error.message}`);
        this.retry();
        return;
      }
      this.attempt = 0;
      log.info(`serial ${path} open at ${profile.line.baudRate} ${profile.line.dataBits}${profile.line.parity[0]!.toUpperCase()}${profile.line.stopBits} (${profile.name})`);
      this.options.onOpen(true);
      // Whatever waited in the driver's buffer is from before: a frame cut in two.
      port.flush(() => (profile.handshake ? this.pollLoop(port) : this.pushLoop(port)));
    });
    port.on('close', () => {
      this.options.onOpen(false);
      if (!this.stopped && this.port === port) {
        log.warn(`serial ${path} closed`);
        this.retry();
      }
    });
    port.on('error', (error) => log.warn(`serial ${path}: ${error.message}`));
  }

  private retry(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.open(), reconnectDelayMs(this.attempt++, Math.random()));
  }

  private pushLoop(port: SerialPort): void {
    const framer = createFramer(this.options.profile.framing);
    port.on('data', (chunk: Buffer) => this.deliver(framer.push(chunk)));
  }

  private deliver(output: { frames: Uint8Array[]; skipped: number }): void {
    const now = Date.now();
    if (output.skipped > 0) this.options.onSkipped(output.skipped);
    for (const frame of output.frames) this.options.onFrame(frame, now);
  }

  /** IEC 62056-21 mode A/B/C: ask, switch speed, read one readout, switch back, wait. */
  private pollLoop(port: SerialPort): void {
    const { log, pollIntervalMs } = this.options;
    const cycle = async () => {
      while (!this.stopped && port.isOpen) {
        try {
          await this.readout(port);
        } catch (error) {
          log.warn(`D0 readout: ${(error as Error).message}`);
        }
        await new Promise((resolve) => { this.timer = setTimeout(resolve, pollIntervalMs); });
      }
    };
    void cycle();
  }

  private async readout(port: SerialPort): Promise<void> {
    await update(port, SIGN_ON_BAUD);
    const incoming = new Incoming(port);
    try {
      await write(port, signOnRequest());
      const line = await incoming.line(IDENTIFICATION_TIMEOUT_MS);
      const identification = parseIdentification(line);
      if (!identification) throw new Error(`not an identification: ${JSON.stringify(line.slice(0, 40))}`);
      const ack = acknowledgement(identification);
      if (ack.length > 0) await write(port, ack);
      if (identification.baudRate !== SIGN_ON_BAUD) await update(port, identification.baudRate);
      const framer = createFramer(this.options.profile.framing);
      // The readout that follows has no identification line of its own: the frame is both.
      framer.push(Buffer.from(`${line}\r\n`, 'latin1'));
      const frame = await incoming.frame(framer, READOUT_TIMEOUT_MS);
      this.options.onFrame(frame, Date.now());
    } finally {
      incoming.close();
      if (port.isOpen) await update(port, SIGN_ON_BAUD).catch(() => undefined);
    }
  }
}

/** Bytes from the port as they arrive, for the request/response of a readout. */
class Incoming {
  private buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private readonly listener = (chunk: Buffer) => {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    this.waiter?.();
  };

  constructor(private readonly port: SerialPort) {
    port.on('data', this.listener);
  }

  close(): void {
    this.port.off('data', this.listener);
  }

  async line(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const start = this.buffer.indexOf(0x2f);
      const end = start < 0 ? -1 : this.buffer.indexOf('\r\n', start);
      if (end >= 0) {
        const line = this.buffer.subarray(start, end).toString('latin1');
        this.buffer = this.buffer.subarray(end + 2);
        return line;
      }
      await this.wait(deadline, 'no identification from the meter');
    }
  }

  async frame(framer: ReturnType<typeof createFramer>, timeoutMs: number): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { frames } = framer.push(this.buffer);
      this.buffer = Buffer.alloc(0);
      if (frames.length > 0) return frames[0]!;
      await this.wait(deadline, 'the readout did not end');
    }
  }

  private wait(deadline: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(what));
      }, Math.max(0, deadline - Date.now()));
      this.waiter = () => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve();
      };
    });
  }
}

function update(port: SerialPort, baudRate: number): Promise<void> {
  return new Promise((resolve, reject) => port.update({ baudRate }, (error) => (error ? reject(error) : resolve())));
}

function write(port: SerialPort, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    port.write(Buffer.from(bytes), (error) => {
      if (error) reject(error);
      else port.drain((drainError) => (drainError ? reject(drainError) : resolve()));
    });
  });
}
