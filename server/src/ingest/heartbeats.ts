import type { Db } from '../platform/store/db.js';
import { saveAgentHeartbeat, type AgentHeartbeatRow } from './store.js';
import type { AuthenticatedDevice } from './service.js';

/**
 * The heartbeat `gridshare agent` publishes on devices/{id}/heartbeat (server/src/agent/domain/health.ts):
 * version, uptime, queue, serial line health, uplink and control mode. The last one per device is
 * kept; one that does not parse is refused (the agent's next one replaces it anyway).
 */
export class HeartbeatRefused extends Error {}

const MAX_BYTES = 8 * 1024;
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function count(value: unknown, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) throw new HeartbeatRefused(`${field} must be a whole number from 0`);
  return value;
}

function instantOrNull(value: unknown, field: string, notAfterMs: number): Date | null {
  if (value === null || value === undefined) return null;
  const ms = typeof value === 'string' && /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new HeartbeatRefused(`${field} must be an ISO instant in UTC or null`);
  // A reader whose clock runs ahead must not look healthier than it is.
  if (ms > notAfterMs + 5 * 60_000) throw new HeartbeatRefused(`${field} is in the future`);
  return new Date(ms);
}

export function parseHeartbeat(payload: Uint8Array, receivedAt: Date): Omit<AgentHeartbeatRow, 'deviceId'> {
  if (payload.byteLength > MAX_BYTES) throw new HeartbeatRefused(`a heartbeat has at most ${MAX_BYTES} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw new HeartbeatRefused('a heartbeat is JSON');
  }
  if (!isRecord(raw) || raw.type !== 'heartbeat') throw new HeartbeatRefused('a heartbeat is an object with "type": "heartbeat"');
  const { version, uptimeSeconds, queue, serial, uplink, control } = raw;
  if (typeof version !== 'string' || !/^[0-9A-Za-z.+-]{1,40}$/.test(version)) throw new HeartbeatRefused('version must be a version number');
  if (!isRecord(queue) || !isRecord(serial) || !isRecord(uplink)) throw new HeartbeatRefused('queue, serial and uplink must be objects');
  if (uplink.transport !== 'mqtt' && uplink.transport !== 'http' && uplink.transport !== 'offline') throw new HeartbeatRefused('uplink.transport must be mqtt, http or offline');
  const mode = isRecord(control) ? control.mode : undefined;
  if (mode !== undefined && mode !== 'following' && mode !== 'safe') throw new HeartbeatRefused('control.mode must be following or safe');
  return {
    receivedAt,
    version,
    uptimeSeconds: count(uptimeSeconds, 'uptimeSeconds'),
    queueMessages: count(queue.messages, 'queue.messages'),
    queueReadings: count(queue.readings, 'queue.readings'),
    lastFrameAt: instantOrNull(serial.lastFrameAt, 'serial.lastFrameAt', receivedAt.getTime()),
    framesPerMinute: count(serial.framesPerMinute, 'serial.framesPerMinute', 1_000_000),
    checksumErrors: count(serial.checksumErrors, 'serial.checksumErrors'),
    transport: uplink.transport,
    controlMode: mode ?? null,
  };
}

/** Stores a device's heartbeat (over MQTT); throws HeartbeatRefused for one that does not parse. */
export async function recordHeartbeat(db: Db, device: AuthenticatedDevice, payload: Uint8Array, receivedAt: Date): Promise<void> {
  await saveAgentHeartbeat(db, device.communityId, { deviceId: device.id, ...parseHeartbeat(payload, receivedAt) });
}
