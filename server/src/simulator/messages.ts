/** The JSON message a simulated device publishes, in the platform's reading schema. */
import { CUMULATIVE_QUANTITIES, type Reading } from '../kernel/quantities.js';

/** The ingest refuses larger messages (see readings/message.ts); stay well below. */
const MAX_MESSAGE_BYTES = 60 * 1024;
const MAX_READINGS = 1000;

export function readingsTopic(deviceId: string): string {
  return `devices/${deviceId}/messages/events`;
}

/** Registers (and the battery's state of charge) are what an interval needs at a boundary. */
export function boundaryReadings(readings: readonly Reading[]): Reading[] {
  return readings.filter((reading) => CUMULATIVE_QUANTITIES.has(reading.quantity) || reading.quantity === 'battery.soc');
}

/**
 * One message: the register values at the quarter hours passed since the last message (so the
 * platform's 15-minute intervals are exact even when a tick spans hours of simulated time),
 * then everything at the current instant. Oldest boundaries are dropped if it would not fit.
 */
export function buildMessage(current: readonly Reading[], boundaries: readonly (readonly Reading[])[]): { payload: string; readings: number; list: Reading[] } {
  let first = 0;
  for (;;) {
    const readings = [...boundaries.slice(first).flat(), ...current];
    const payload = JSON.stringify({ readings });
    if ((readings.length <= MAX_READINGS && Buffer.byteLength(payload) <= MAX_MESSAGE_BYTES) || first >= boundaries.length) {
      return { payload, readings: readings.length, list: readings };
    }
    first += Math.max(1, Math.ceil((boundaries.length - first) / 4));
  }
}
