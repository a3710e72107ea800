/**
 * A token bucket: the backlog after an outage drains at a bounded rate (readings per second),
 * so a reader that was offline for days does not flood the platform or its own uplink.
 */
export interface TokenBucket {
  readonly ratePerSecond: number;
  readonly capacity: number;
  readonly tokens: number;
  readonly atMs: number;
}

export function tokenBucket(ratePerSecond: number, nowMs: number): TokenBucket {
  // One second's worth of burst: enough to send a whole message of a live stream at once.
  return { ratePerSecond, capacity: ratePerSecond, tokens: ratePerSecond, atMs: nowMs };
}

function refill(bucket: TokenBucket, nowMs: number): TokenBucket {
  const elapsed = Math.max(0, nowMs - bucket.atMs) / 1000;
  return { ...bucket, tokens: Math.min(bucket.capacity, bucket.tokens + elapsed * bucket.ratePerSecond), atMs: nowMs };
}

/** How many units may go now (at most `wanted`), and the bucket after taking them. */
export function take(bucket: TokenBucket, wanted: number, nowMs: number): { granted: number; bucket: TokenBucket } {
  const filled = refill(bucket, nowMs);
  const granted = Math.max(0, Math.min(wanted, Math.floor(filled.tokens)));
  return { granted, bucket: { ...filled, tokens: filled.tokens - granted } };
}

/** Milliseconds until `units` may go. */
export function waitFor(bucket: TokenBucket, units: number, nowMs: number): number {
  const filled = refill(bucket, nowMs);
  const missing = Math.min(units, filled.capacity) - filled.tokens;
  return missing <= 0 ? 0 : Math.ceil((missing / filled.ratePerSecond) * 1000);
}

/**
 * Reconnect delays: exponential from 1 s to 60 s with full jitter, so a street of readers
 * coming back after the platform's restart does not reconnect in step.
 */
export function reconnectDelayMs(attempt: number, random: number, baseMs = 1_000, maxMs = 60_000): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.round(baseMs / 2 + random * (ceiling - baseMs / 2));
}
