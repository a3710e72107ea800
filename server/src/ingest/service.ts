import type { Reading } from '../kernel/quantities.js';
import { MessageRejected, parseReadingsMessage, validateReadings } from '../readings/index.js';
import type { ReadingWriter, WriteResult } from './writer.js';

/** A device that proved its identity (SAS token) and may send readings. */
export interface AuthenticatedDevice {
  readonly id: string;
  readonly communityId: string;
  readonly meteringPointId: string | null;
  /** When the device was bound to that metering point (epoch ms); null: its first binding, or unbound. */
  readonly boundFrom: number | null;
}

/** Turns a raw meter frame into readings with the device's own meter keys. */
export type FrameDecoder = (deviceId: string, format: string, frame: Uint8Array) => Promise<Reading[]>;

export type IngestOutcome =
  | { readonly status: 'stored'; readonly result: WriteResult }
  | { readonly status: 'refused'; readonly rejection: MessageRejected };

/**
 * The one path every reading takes, whatever brought it (MQTT, HTTP, a connector): validate,
 * then group-commit. A refused message is counted against the device and never stored.
 */
export class IngestService {
  constructor(
    private readonly writer: ReadingWriter,
    private readonly decodeFrame: FrameDecoder,
    /** Told of every refused message, by its code (the operator's metrics). */
    private readonly onRefused: (code: MessageRejected['code']) => void = () => undefined,
  ) {}

  async ingestJson(device: AuthenticatedDevice, payload: string | Uint8Array | { parsed: unknown }): Promise<IngestOutcome> {
    let readings: Reading[];
    try {
      readings = typeof payload === 'object' && 'parsed' in payload ? validateReadings(payload.parsed) : parseReadingsMessage(payload);
    } catch (error) {
      return this.refuse(device, error);
    }
    return this.store(device, readings);
  }

  async ingestFrame(device: AuthenticatedDevice, format: string, frame: Uint8Array): Promise<IngestOutcome> {
    let readings: Reading[];
    try {
      readings = await this.decodeFrame(device.id, format, frame);
      // Decoded values pass the same checks as JSON readings (future timestamps, ranges).
      readings = validateReadings({ readings });
    } catch (error) {
      return this.refuse(device, error instanceof MessageRejected ? error : new MessageRejected('bad-frame', (error as Error).message));
    }
    return this.store(device, readings);
  }

  private async store(device: AuthenticatedDevice, readings: Reading[]): Promise<IngestOutcome> {
    try {
      const result = await this.writer.write(this.source(device), readings);
      return { status: 'stored', result };
    } catch (error) {
      if (error instanceof MessageRejected) {
        this.onRefused(error.code);
        return { status: 'refused', rejection: error };
      }
      throw error;
    }
  }

  private source(device: AuthenticatedDevice) {
    return { deviceId: device.id, communityId: device.communityId, meteringPointId: device.meteringPointId, boundFrom: device.boundFrom };
  }

  private refuse(device: AuthenticatedDevice, error: unknown): IngestOutcome {
    const rejection = error instanceof MessageRejected ? error : new MessageRejected('bad-shape', (error as Error).message);
    this.writer.recordRefusal(this.source(device), rejection);
    this.onRefused(rejection.code);
    return { status: 'refused', rejection };
  }
}
