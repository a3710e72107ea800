/**
 * Readings per minute of each community, from its counters sampled whenever the installation's
 * health is read: the rate since the oldest sample kept, samples older than the window forgotten.
 * Pure: the caller keeps the samples between reads.
 */
export interface Sample {
  readonly at: number;
  readonly readingsTotal: number;
}

export const RATE_WINDOW_MS = 15 * 60_000;

/**
 * The rate since the oldest sample within the window (null without one, or when no time passed),
 * and the samples to keep: those within the window plus this one.
 */
export function ingestRate(kept: readonly Sample[], current: Sample, windowMs = RATE_WINDOW_MS): { perMinute: number | null; keep: Sample[] } {
  const recent = kept.filter((sample) => current.at - sample.at <= windowMs && sample.at <= current.at);
  const oldest = recent[0];
  const elapsed = oldest ? current.at - oldest.at : 0;
  // Counters only grow; a smaller total means the devices were removed: no rate from before that.
  const perMinute = oldest && elapsed > 0 && current.readingsTotal >= oldest.readingsTotal
    ? ((current.readingsTotal - oldest.readingsTotal) * 60_000) / elapsed
    : null;
  return { perMinute, keep: [...recent, current] };
}
