import type { LogLevel } from './log-level.js';

/**
 * What the serial line is doing: frames, their rate over the last minute, checksum failures
 * (a bad cable, a loose optical head or a wrong speed show up here first).
 */
export class LineHealth {
  private readonly recent: number[] = [];
  frames = 0;
  checksumErrors = 0;
  /** Frames that were not meter data at all (wrong profile, noise). */
  frameErrors = 0;
  skippedBytes = 0;
  lastFrameAtMs: number | undefined;

  frame(nowMs: number): void {
    this.frames += 1;
    this.lastFrameAtMs = nowMs;
    this.recent.push(nowMs);
    this.prune(nowMs);
  }

  perMinute(nowMs: number): number {
    this.prune(nowMs);
    return this.recent.length;
  }

  private prune(nowMs: number): void {
    while (this.recent.length > 0 && this.recent[0]! <= nowMs - 60_000) this.recent.shift();
  }
}

export interface HeartbeatInput {
  readonly deviceId: string;
  readonly version: string;
  readonly nowMs: number;
  readonly startedAtMs: number;
  readonly logLevel: LogLevel;
  readonly queue: { readonly messages: number; readonly readings: number; readonly bytes: number; readonly oldestAtMs: number | undefined; readonly droppedReadings: number; readonly thinnedMessages: number };
  readonly serial: { readonly port: string | undefined; readonly profile: string; readonly open: boolean; readonly line: LineHealth };
  readonly uplink: { readonly transport: 'mqtt' | 'http' | 'offline'; readonly sentMessages: number; readonly sentReadings: number; readonly refusedMessages: number; readonly lastAckAtMs: number | undefined; readonly lastError: string | undefined };
  readonly control: HeartbeatControl;
}

/** Commands and the safe fallback: following the platform, or local devices in their safe state. */
export interface HeartbeatControl {
  readonly mode: 'following' | 'safe';
  readonly acknowledged: number;
  readonly rejected: number;
  readonly lastCommandAt: string | null;
  readonly pendingAnswers: number;
}

/**
 * The heartbeat (JSON on devices/{id}/heartbeat, also the local status): everything a manager
 * needs to tell a dead reader from a dead meter, a loose cable or a blocked uplink.
 */
export interface Heartbeat {
  readonly type: 'heartbeat';
  readonly deviceId: string;
  readonly version: string;
  readonly sentAt: string;
  readonly uptimeSeconds: number;
  readonly logLevel: LogLevel;
  readonly queue: { readonly messages: number; readonly readings: number; readonly bytes: number; readonly oldestAt: string | null; readonly droppedReadings: number; readonly thinnedMessages: number };
  readonly serial: {
    readonly port: string | null;
    readonly profile: string;
    readonly open: boolean;
    readonly lastFrameAt: string | null;
    readonly framesPerMinute: number;
    readonly frames: number;
    readonly checksumErrors: number;
    readonly frameErrors: number;
    readonly skippedBytes: number;
  };
  readonly uplink: { readonly transport: 'mqtt' | 'http' | 'offline'; readonly sentMessages: number; readonly sentReadings: number; readonly refusedMessages: number; readonly lastAckAt: string | null; readonly lastError: string | null };
  readonly control: HeartbeatControl;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function buildHeartbeat(input: HeartbeatInput): Heartbeat {
  const { line } = input.serial;
  return {
    type: 'heartbeat',
    deviceId: input.deviceId,
    version: input.version,
    sentAt: new Date(input.nowMs).toISOString(),
    uptimeSeconds: Math.floor((input.nowMs - input.startedAtMs) / 1000),
    logLevel: input.logLevel,
    queue: { ...input.queue, oldestAt: iso(input.queue.oldestAtMs) },
    serial: {
      port: input.serial.port ?? null,
      profile: input.serial.profile,
      open: input.serial.open,
      lastFrameAt: iso(line.lastFrameAtMs),
      framesPerMinute: line.perMinute(input.nowMs),
      frames: line.frames,
      checksumErrors: line.checksumErrors,
      frameErrors: line.frameErrors,
      skippedBytes: line.skippedBytes,
    },
    uplink: { transport: input.uplink.transport, sentMessages: input.uplink.sentMessages, sentReadings: input.uplink.sentReadings, refusedMessages: input.uplink.refusedMessages, lastAckAt: iso(input.uplink.lastAckAtMs), lastError: input.uplink.lastError ?? null },
    control: input.control,
  };
}

/** The topic the heartbeat goes to (ingest keeps the last one per device). */
export const heartbeatTopic = (deviceId: string): string => `devices/${deviceId}/heartbeat`;
