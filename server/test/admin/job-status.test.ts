import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, storeKinds } from '../support/stores.js';
import type { Db } from '../../src/platform/store/db.js';
import { JobRunner } from '../../src/platform/jobs/index.js';
import { ingestRate } from '../../src/admin/domain/ingest-rate.js';

describe.each(storeKinds)('what the job runner tells the admin console, on %s', (kind) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => ({ db, close } = await openTestDb(kind)), 120_000);
  afterAll(() => close?.());

  it('keeps each job\'s last pass, last success and last error (after later successes too)', async () => {
    let clock = Date.UTC(2026, 11, 2, 12);
    const runner = new JobRunner(db, { now: () => clock, log: () => undefined });
    let fail = true;
    runner.register({ name: 'flaky', delayMs: 0, async pass() {
      if (fail) throw new Error('meter archive unreachable');
      return { done: 0, more: false };
    } });
    await runner.flush('flaky');
    const failed = (await runner.status())[0]!;
    expect(failed).toMatchObject({ name: 'flaky', failuresInRow: 1, lastPassAt: clock, lastSuccessAt: null, lastError: { at: clock, message: 'meter archive unreachable' } });

    fail = false;
    clock += 60_000;
    await runner.flush('flaky');
    const recovered = (await runner.status())[0]!;
    expect(recovered).toMatchObject({ failuresInRow: 0, lastPassAt: clock, lastSuccessAt: clock, lastError: { at: clock - 60_000 } });
    await runner.close();
  });

  it('runs no pass of a paused job: its wake-ups wait and its lag grows on the clock; resumed, it serves them', async () => {
    let clock = Date.UTC(2026, 11, 2, 12);
    const runner = new JobRunner(db, { now: () => clock });
    const passes = { paused: 0, control: 0 };
    for (const name of ['paused', 'control'] as const) {
      runner.register({ name, delayMs: 0, async pass() {
        passes[name] += 1;
        return { done: 0, more: false };
      } });
    }
    await runner.pause('paused');
    runner.wake('paused');
    runner.wake('control');
    await expect.poll(() => passes.control).toBe(1);
    clock += 600_000;
    const [paused, control] = await runner.status();
    expect(passes.paused).toBe(0);
    expect(paused).toMatchObject({ paused: true, lagSeconds: 600, lastPassAt: null });
    expect(control).toMatchObject({ paused: false, lagSeconds: 0 });

    runner.resume('paused');
    await expect.poll(() => passes.paused).toBe(1);
    await expect.poll(async () => (await runner.status())[0]!.lagSeconds).toBe(0);
    expect(runner.has('paused')).toBe(true);
    expect(runner.has('nothing')).toBe(false);
    expect(() => runner.resume('nothing')).toThrow(/no job named nothing/);
    await runner.close();
  });
});

describe('ingest rate from sampled counters', () => {
  const t0 = Date.UTC(2026, 11, 2, 12);
  it('has no rate before a second sample, then counts per minute since the oldest sample in the window', () => {
    const first = ingestRate([], { at: t0, readingsTotal: 100 });
    expect(first.perMinute).toBeNull();
    const second = ingestRate(first.keep, { at: t0 + 120_000, readingsTotal: 400 });
    expect(second.perMinute).toBe(150);
    expect(second.keep).toHaveLength(2);
  });

  it('forgets samples older than the window, samples from the future and counters that went down', () => {
    const old = { at: t0 - 20 * 60_000, readingsTotal: 0 };
    const future = { at: t0 + 60_000, readingsTotal: 0 };
    expect(ingestRate([old, future], { at: t0, readingsTotal: 50 })).toEqual({ perMinute: null, keep: [{ at: t0, readingsTotal: 50 }] });
    expect(ingestRate([{ at: t0 - 60_000, readingsTotal: 500 }], { at: t0, readingsTotal: 20 }).perMinute).toBeNull();
    expect(ingestRate([{ at: t0, readingsTotal: 5 }], { at: t0, readingsTotal: 5 }).perMinute).toBeNull();
  });
});
