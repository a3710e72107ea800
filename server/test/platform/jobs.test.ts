import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createMigratedTestDatabase, openTestDb, postgresUrl, storeKinds, type TestDatabase } from '../support/stores.js';
import { openDb, type Db } from '../../src/platform/store/db.js';
import { migrate } from '../../src/platform/store/migrate.js';
import { JobRunner, type PassContext } from '../../src/platform/jobs/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function metric(registry: Registry, name: string, job: string): Promise<number | undefined> {
  const found = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (found?.values as { labels: Record<string, string>; value: number }[] | undefined)?.find((v) => v.labels.job_name === job)?.value;
}

describe.each(storeKinds)('the job runner on %s', (kind) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => ({ db, close } = await openTestDb(kind)));
  afterAll(() => close?.());

  it('takes over a unit whose lease expired, leaves one under a live lease alone, and ends its own leases with the pass', async () => {
    await db.query(`INSERT INTO job_leases (job, unit, holder, expires_at) VALUES
      ('probe', 'crashed', 'dead-process', now() - interval '1 second'), ('probe', 'busy', 'other-process', now() + interval '1 minute')`);
    const runner = new JobRunner(db, { holder: 'me' });
    let held: string[] = [];
    let during: { unit: string; holder: string }[] = [];
    runner.register({
      name: 'probe', delayMs: 0,
      async pass({ lease }) {
        held = await lease(['crashed', 'busy', 'free', 'free']);
        during = await db.query(`SELECT unit, holder FROM job_leases WHERE job = 'probe' ORDER BY unit`);
        return { done: 0, more: false };
      },
    });
    await runner.flush('probe');
    await runner.close();
    expect(held).toEqual(['crashed', 'free']);
    expect(during).toEqual([{ unit: 'busy', holder: 'other-process' }, { unit: 'crashed', holder: 'me' }, { unit: 'free', holder: 'me' }]);
    expect(await db.query(`SELECT unit, holder FROM job_leases WHERE job = 'probe'`)).toEqual([{ unit: 'busy', holder: 'other-process' }]);
  });

  it('retries a failing job with a doubling delay and counts runs, failures and lag in the metrics', async () => {
    const registry = new Registry();
    const logged: string[] = [];
    const runner = new JobRunner(db, { registry, retryFirstMs: 40, log: (line) => logged.push(line) });
    const attempts: number[] = [];
    let failuresLeft = 3;
    const job = runner.register({
      name: 'flaky', delayMs: 0,
      async pass() {
        attempts.push(Date.now());
        if (failuresLeft-- > 0) throw new Error('not yet');
        return { done: attempts.length === 4 ? 1 : 0, more: false };
      },
    });
    job.wake();
    await sleep(20);
    expect(await metric(registry, 'gridshare_job_failures_in_row', 'flaky')).toBe(1);
    expect(await metric(registry, 'gridshare_job_lag_seconds', 'flaky')).toBeGreaterThan(0);
    expect(await metric(registry, 'gridshare_job_last_failure_timestamp_seconds', 'flaky')).toBeGreaterThan(0);
    expect(await metric(registry, 'gridshare_job_last_success_timestamp_seconds', 'flaky')).toBeUndefined();
    for (let i = 0; i < 100 && attempts.length < 4; i++) await sleep(20);
    await sleep(20);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(38);
    expect(gaps[1]).toBeGreaterThanOrEqual(78);
    expect(gaps[2]).toBeGreaterThanOrEqual(158);
    expect(logged).toHaveLength(3);
    expect(logged[2]).toMatch(/flaky failed \(3 in a row\), retry in 160 ms: not yet/);
    expect(await metric(registry, 'gridshare_job_runs_total', 'flaky')).toBe(4);
    expect(await metric(registry, 'gridshare_job_failures_total', 'flaky')).toBe(3);
    expect(await metric(registry, 'gridshare_job_failures_in_row', 'flaky')).toBe(0);
    expect(await metric(registry, 'gridshare_job_lag_seconds', 'flaky')).toBe(0);
    expect(await metric(registry, 'gridshare_job_last_success_timestamp_seconds', 'flaky'))
      .toBeGreaterThanOrEqual((await metric(registry, 'gridshare_job_last_failure_timestamp_seconds', 'flaky'))!);
    await runner.close();
  });

  it('reports the age of the oldest waiting unit as lag when the job knows it', async () => {
    const registry = new Registry();
    const runner = new JobRunner(db, { registry });
    runner.register({ name: 'backlog', delayMs: 0, pass: async () => ({ done: 0, more: false }), waitingSince: async () => new Date(Date.now() - 90_000) });
    runner.register({ name: 'idle', delayMs: 0, pass: async () => ({ done: 0, more: false }), waitingSince: async () => null });
    expect(await metric(registry, 'gridshare_job_lag_seconds', 'backlog')).toBeCloseTo(90, 0);
    expect(await metric(registry, 'gridshare_job_lag_seconds', 'idle')).toBe(0);
    await runner.close();
  });

  it('leaves no lag and no second pass behind when a flush serves the wake-up whose timer fires during it', async () => {
    const registry = new Registry();
    const runner = new JobRunner(db, { registry });
    let passes = 0;
    const job = runner.register({
      name: 'served', delayMs: 30,
      async pass() {
        passes += 1;
        await sleep(80);
        return { done: 0, more: false };
      },
    });
    job.wake();
    await job.flush();
    expect(await metric(registry, 'gridshare_job_lag_seconds', 'served')).toBe(0);
    await sleep(120);
    expect(passes).toBe(1);
    job.wake();
    await sleep(150);
    expect(passes).toBe(2);
    await runner.close();
  });

  it('never runs two passes of one job at once, however often it is woken and flushed', async () => {
    const runner = new JobRunner(db);
    let running = 0;
    let most = 0;
    let passes = 0;
    let left = 5;
    const job = runner.register({
      name: 'single', delayMs: 1,
      async pass() {
        running += 1;
        most = Math.max(most, running);
        passes += 1;
        await sleep(10);
        running -= 1;
        return left-- > 0 ? { done: 1, more: true } : { done: 0, more: false };
      },
    });
    for (let i = 0; i < 10; i++) job.wake();
    await Promise.all([job.flush(), job.flush(), sleep(5).then(() => job.flush())]);
    await runner.close();
    expect(most).toBe(1);
    expect(passes).toBeGreaterThanOrEqual(6);
  });

  it('runs at most its number of passes at once and serves the others in turn, so the jobs never take the whole pool', async () => {
    const runner = new JobRunner(db, { concurrentPasses: 2 });
    let running = 0;
    let most = 0;
    const started: string[] = [];
    const names = ['one', 'two', 'three', 'four', 'five'];
    for (const name of names) {
      runner.register({
        name, delayMs: 0,
        async pass() {
          running += 1;
          most = Math.max(most, running);
          started.push(name);
          // A connection held across a pause, as a pass holds its transaction.
          await db.query('SELECT 1');
          await sleep(30);
          running -= 1;
          return { done: 0, more: false };
        },
      });
    }
    await Promise.all(names.map((name) => runner.flush(name)));
    await runner.close();
    expect(most).toBe(2);
    // First come, first served: each had its turn in the order it asked.
    expect(started).toEqual(names);
    expect(() => new JobRunner(db, { concurrentPasses: 0 })).toThrow(/positive whole number/);
  });

  it('refuses a second job of the same name and a wake-up of an unknown one', async () => {
    const runner = new JobRunner(db);
    runner.register({ name: 'once', delayMs: 0, pass: async () => ({ done: 0, more: false }) });
    expect(() => runner.register({ name: 'once', delayMs: 0, pass: async () => ({ done: 0, more: false }) })).toThrow(/already registered/);
    expect(() => runner.wake('nobody')).toThrow(/no job named nobody/);
    await runner.close();
  });
});

/** Two processes on one PostgreSQL: two connections, two runners, one table of work. */
describe.skipIf(!postgresUrl)('two job runners on one PostgreSQL server', () => {
  let database: TestDatabase;
  const dbs: Db[] = [];
  beforeAll(async () => {
    database = await createMigratedTestDatabase('postgres');
    for (let i = 0; i < 2; i++) dbs.push(await openDb(database.config));
    await migrate(dbs[0]!);
    await dbs[0]!.exec('CREATE TABLE work (unit text PRIMARY KEY, times integer NOT NULL DEFAULT 0, done_by text)');
  });
  afterAll(async () => {
    for (const db of dbs) await db.close();
    await database?.drop();
  });

  it('lets exactly one of them do each unit, even when both saw it waiting', async () => {
    const units = Array.from({ length: 10 }, (_, i) => `u${i}`);
    await dbs[0]!.query('INSERT INTO work (unit) SELECT unnest($1::text[])', [units]);
    // Both first passes read the waiting units before either takes a lease.
    let arrived = 0;
    let bothRead: () => void = () => undefined;
    const barrier = new Promise<void>((resolve) => { bothRead = resolve; });
    const runners = dbs.map((db, i) => {
      const runner = new JobRunner(db, { holder: `process-${i}` });
      let first = true;
      const job = runner.register({
        name: 'work', delayMs: 0,
        async pass({ lease }: PassContext) {
          const waiting = (await db.query<{ unit: string }>('SELECT unit FROM work WHERE done_by IS NULL ORDER BY unit')).map((r) => r.unit);
          if (first) {
            first = false;
            if (++arrived === 2) bothRead();
            await barrier;
          }
          const held = await lease(waiting);
          for (const unit of held) {
            await sleep(5);
            await db.query('UPDATE work SET times = times + 1, done_by = $2 WHERE unit = $1', [unit, `process-${i}`]);
          }
          return { done: held.length, more: false };
        },
      });
      return { runner, job };
    });
    await Promise.all(runners.map(({ job }) => job.flush()));
    await Promise.all(runners.map(({ runner }) => runner.close()));
    const rows = await dbs[0]!.query<{ unit: string; times: number }>('SELECT unit, times FROM work ORDER BY unit');
    expect(rows).toEqual(units.map((unit) => ({ unit, times: 1 })));
    expect(await dbs[0]!.query('SELECT 1 FROM job_leases')).toEqual([]);
  });
});
