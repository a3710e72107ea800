import { describe, expect, it } from 'vitest';
import { bindingProblems, nextRunAt, readingsByDevice, splitSecrets, withSecrets } from '../../src/connectors/domain/instances.js';

/** The pure rules of connector instances: secrets by pointer, when the next run comes, readings by bound device. */
describe('connector instances, pure rules', () => {
  const patterns = ['/auth/token', '/auth/password', '/steps/*/headers/secret'];
  const config = { auth: { type: 'bearer', token: 't-1' }, steps: [{ url: 'a', headers: { secret: 's-0' } }, { url: 'b' }, { url: 'c', headers: { secret: 's-2' } }] };

  it('takes the secrets out by pointer and puts them back only where their place is empty', () => {
    const split = splitSecrets(patterns, config);
    expect(split.secrets).toEqual({ '/auth/token': 't-1', '/steps/0/headers/secret': 's-0', '/steps/2/headers/secret': 's-2' });
    expect(split.config).toEqual({ auth: { type: 'bearer' }, steps: [{ url: 'a', headers: {} }, { url: 'b' }, { url: 'c', headers: {} }] });
    expect(config.auth.token).toBe('t-1');
    expect(withSecrets(split.config, split.secrets)).toEqual(config);
    // A new value wins over the stored one; a place that no longer exists takes nothing.
    const changed = { auth: { type: 'bearer', token: 'new' }, steps: [{ url: 'a' }] };
    expect(withSecrets(changed, split.secrets)).toEqual(changed);
  });

  it('runs next after the interval and a share of the jitter, at once when more waits, and backs off doubling up to an hour after failures', () => {
    const base = { endedAt: 1_000_000, intervalS: 60, jitterS: 30, more: false, random: 0.5, failuresInRow: 0 };
    expect(nextRunAt(base)).toBe(1_000_000 + 75_000);
    expect(nextRunAt({ ...base, random: 0.999 })).toBe(1_000_000 + 90_000);
    expect(nextRunAt({ ...base, more: true })).toBe(1_000_000);
    expect([1, 2, 3, 10].map((failuresInRow) => (nextRunAt({ ...base, failuresInRow }) - base.endedAt) / 1_000)).toEqual([120, 240, 480, 3_600]);
    // An instance that runs less often than hourly backs off to its own interval at most.
    expect(nextRunAt({ ...base, intervalS: 7_200, failuresInRow: 4 }) - base.endedAt).toBe(7_200_000);
  });

  it('groups readings by their bound device and names the targets bound to none', () => {
    const r = (target: string) => ({ target, ts: '2026-06-01T10:00:00Z' });
    const { byDevice, unbound } = readingsByDevice([r('pv'), r('meter'), r('pv'), r('battery')], [{ target: 'pv', deviceId: 'd1' }, { target: 'meter', deviceId: 'd2' }]);
    expect([...byDevice.entries()].map(([device, readings]) => [device, readings.length])).toEqual([['d1', 2], ['d2', 1]]);
    expect(unbound).toEqual(['battery']);
    expect(bindingProblems([{ target: 'pv', deviceId: 'd1' }, { target: 'pv', deviceId: 'd2' }])).toEqual(['bindings/1/target: "pv" is bound twice']);
  });
});
