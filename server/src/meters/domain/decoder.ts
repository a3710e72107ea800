import type { Reading } from '../../kernel/quantities.js';

/** Why a frame was refused. A corrupted frame is refused, never mis-read. */
export type FrameErrorCode = 'crc' | 'auth-tag' | 'key-required' | 'truncated' | 'format' | 'unsupported';

export class FrameError extends Error {
  constructor(readonly code: FrameErrorCode, message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

export interface DecodeOptions {
  /** AES-128 encryption key (16 bytes) for encrypted frames. */
  readonly key?: Uint8Array | undefined;
  /** DLMS authentication key (16 bytes), part of the GCM additional data. */
  readonly authKey?: Uint8Array | undefined;
  /** Used as the timestamp when the frame carries none. */
  readonly receivedAt?: Date | undefined;
  /** For published examples with wrong checksums only; never in production ingest. */
  readonly ignoreCrc?: boolean | undefined;
}

export interface DecodedFrame {
  readonly format: string;
  readonly meterId?: string | undefined;
  readonly readings: Reading[];
  /** Values that have no place in the measurement model (tariff indicator, power failures, …). */
  readonly extra?: Readonly<Record<string, string | number>>;
}

/** One meter protocol, registered by name like evcc's meters. */
export interface MeterDecoder {
  readonly name: string;
  /** Cheap check whether a frame looks like this protocol (for `--format auto`). */
  detect(frame: Uint8Array): boolean;
  decode(frame: Uint8Array, options: DecodeOptions): DecodedFrame;
}
