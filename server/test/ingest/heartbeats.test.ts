import { describe, expect, it } from 'vitest';
import { HeartbeatRefused, parseHeartbeat } from '../../src/ingest/heartbeats.js';

const receivedAt = new Date('2026-12-02T10:00:00Z');
const beat = {
  type: 'heartbeat', deviceId: 'dev-1', version: '0.4.0', sentAt: '2026-12-02T10:00:00.000Z', uptimeSeconds: 3_600, logLevel: 'info',
  queue: { messages: 3, readings: 57, bytes: 4_000, oldestAt: null, droppedReadings: 0, thinnedMessages: 0 },
  serial: { port: '/dev/ttyUSB0', profile: 'dsmr-p1', open: true, lastFrameAt: '2026-12-02T09:59:59.000Z', framesPerMinute: 60, frames: 3_600, checksumErrors: 2, frameErrors: 0, skippedBytes: 0 },
  uplink: { transport: 'mqtt', sentMessages: 10, sentReadings: 190, refusedMessages: 0, lastAckAt: null, lastError: null },
  control: { mode: 'safe', acknowledged: 1, rejected: 0, lastCommandAt: null, pendingAnswers: 0 },
};
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('agent heartbeats', () => {
  it('keeps what the devices page shows', () => {
    expect(parseHeartbeat(bytes(beat), receivedAt)).toEqual({
      receivedAt, version: '0.4.0', uptimeSeconds: 3_600, queueMessages: 3, queueReadings: 57, lastFrameAt: new Date('2026-12-02T09:59:59Z'),
      framesPerMinute: 60, checksumErrors: 2, transport: 'mqtt', controlMode: 'safe',
    });
    // An agent from before commands (no control section) has no control mode.
    expect(parseHeartbeat(bytes({ ...beat, control: undefined }), receivedAt).controlMode).toBeNull();
  });

  it('refuses what is not a heartbeat, naming the field', () => {
    const refused = (payload: Buffer) => {
      try {
        parseHeartbeat(payload, receivedAt);
        return undefined;
      } catch (error) {
        expect(error).toBeInstanceOf(HeartbeatRefused);
        return (error as Error).message;
      }
    };
    expect(refused(Buffer.from('{'))).toBe('a heartbeat is JSON');
    expect(refused(Buffer.alloc(9_000, 0x20))).toBe('a heartbeat has at most 8192 bytes');
    expect(refused(bytes([beat]))).toBe('a heartbeat is an object with "type": "heartbeat"');
    expect(refused(bytes({ ...beat, version: '<script>' }))).toBe('version must be a version number');
    expect(refused(bytes({ ...beat, uptimeSeconds: -1 }))).toBe('uptimeSeconds must be a whole number from 0');
    expect(refused(bytes({ ...beat, queue: { ...beat.queue, messages: 1.5 } }))).toBe('queue.messages must be a whole number from 0');
    expect(refused(bytes({ ...beat, serial: { ...beat.serial, lastFrameAt: '2026-12-02T11:00:00Z' } }))).toBe('serial.lastFrameAt is in the future');
    expect(refused(bytes({ ...beat, serial: { ...beat.serial, lastFrameAt: 'yesterday' } }))).toBe('serial.lastFrameAt must be an ISO instant in UTC or null');
    expect(refused(bytes({ ...beat, uplink: { transport: 'pigeon' } }))).toBe('uplink.transport must be mqtt, http or offline');
    expect(refused(bytes({ ...beat, control: { mode: 'chaos' } }))).toBe('control.mode must be following or safe');
  });
});
