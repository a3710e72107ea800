import { HOUR_MS, QUARTER_HOUR_MS } from '../kernel/time.js';
/**
 * Timing of a simulation run, kept pure so it can be tested without clocks or brokers.
 *
 * The platform refuses readings from the future, so simulated time never passes the wall
 * clock: it starts in the past, runs `speed` times faster than real time until it has caught
 * up with now, and from then on runs at real-time speed.
 */


/** Where a run starts when the caller does not say: now for real time, else the last day, replayed. */
export function defaultStart(nowMs: number, speed: number): Date {
  return new Date(speed > 1 ? nowMs - 24 * HOUR_MS : nowMs);
}

/** The simulated instant at wall-clock `realMs` of a run that began at `realStartMs` from `startMs`. */
export function simulatedTime(startMs: number, speed: number, realStartMs: number, realMs: number): number {
  const running = startMs + speed * Math.max(0, realMs - realStartMs);
  return Math.max(startMs, Math.min(running, realMs));
}

/** Wall-clock time at which a run reaches now and drops to real-time speed (Infinity if never). */
export function catchUpTime(startMs: number, speed: number, realStartMs: number): number {
  if (startMs >= realStartMs) return realStartMs;
  return speed > 1 ? realStartMs + (realStartMs - startMs) / (speed - 1) : Number.POSITIVE_INFINITY;
}

/** UTC quarter hours b with after < b ≤ until, oldest first. */
export function quarterHoursBetween(after: number, until: number): number[] {
  const boundaries: number[] = [];
  for (let b = Math.floor(after / QUARTER_HOUR_MS) * QUARTER_HOUR_MS + QUARTER_HOUR_MS; b <= until; b += QUARTER_HOUR_MS) boundaries.push(b);
  return boundaries;
}

/**
 * When device `index` of `count` publishes in tick `tick`: ticks are `intervalMs` apart and the
 * devices are spread evenly across each tick, so a street of meters is not one burst.
 */
export function slotTime(realStartMs: number, intervalMs: number, tick: number, index: number, count: number): number {
  return realStartMs + tick * intervalMs + Math.floor((index * intervalMs) / count);
}
