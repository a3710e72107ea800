import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedTestDatabase, openTestDb, postgresUrl, storeKinds, type TestDatabase } from '../support/stores.js';
import { openDb, type Db } from '../../src/platform/store/db.js';
import { migrate } from '../../src/platform/store/migrate.js';
import { JobRunner, type JobDefinition } from '../../src/platform/jobs/index.js';
import { EventBus, outboxJob } from '../../src/platform/events/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls (generously: a loaded machine) until `check` holds. */
async function until(check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

/**
 * What several processes need from the runner beyond one lease per unit: a pass longer than a
 * lease keeps its units, a unit a dead holder left is taken up without anyone waking the job, and
 * a job without a schedule looks for work by itself.
 */
describe.each(storeKinds)('job leases across processes on %s', (kind) => {
  let db: Db;
  let close: () => Promise<void>;
  // Generous: opening PGlite on a loaded 2-core machine takes long.
  beforeAll(async () => ({ db, close } = await openTestDb(kind)), 180_000);
  afterAll(() => close?.());

  it('renews the leases of a pass that outlasts them, so no other runner takes its units meanwhile', async () => {
    const long = new JobRunner(db, { holder: 'long', leaseMs: 300 });
    const other = new JobRunner(db, { holder: 'other', leaseMs: 300 });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => { release = resolve; });
    let leased = false;
    long.register({
      name: 'renewed', delayMs: 0,
      async pass({ lease }) {
        // One pass does the unit; the flush's next pass finds it done.
        if (leased) return { done: 0, more: false };
        leased = (await lease(['unit'])).length === 1;
        await held;
        return { done: 1, more: false };
      },
    });
    const taken: string[][] = [];
    other.register({ name: 'renewed', delayMs: 0, async pass({ lease }) { taken.push(await lease(['unit'])); return { done: 0, more: false }; } });
    const running = long.flush('renewed');
    await until(() => leased);
    // Three lease periods later the unit is still the long pass's.
    const since = Date.now();
    while (Date.now() - since < 1_000) {
      await other.flush('renewed');
      await sleep(50);
    }
    expect(taken.flat()).toEqual([]);
    expect(await db.query(`SELECT holder FROM job_leases WHERE job = 'renewed' AND expires_at > now()`)).toEqual([{ holder: 'long' }]);
    release();
    await running;
    await other.flush('renewed');
    expect(taken.at(-1)).toEqual(['unit']);
    await Promise.all([long.close(), other.close()]);
  });

  it('does the unit a dead holder left once its lease has run out, woken by nobody', async () => {
    // The dead process's lease, not renewed any more.
    await db.query(`INSERT INTO job_leases (job, unit, holder, expires_at) VALUES ('orphaned', 'unit', 'dead-process', now() + interval '200 milliseconds')`);
    const runner = new JobRunner(db, { holder: 'survivor', leaseMs: 200 });
    const done: string[] = [];
    let passes = 0;
    runner.register({
      name: 'orphaned', delayMs: 0,
      async pass({ lease }) {
        passes += 1;
        const held = await lease(['unit']);
        done.push(...held);
        return { done: held.length, more: false };
      },
    });
    await runner.flush('orphaned');
    expect(done).toEqual([]);
    // No wake-up and no flush from here on: the runner looks again by itself.
    await until(() => done.length > 0);
    await runner.close();
    expect(done).toEqual(['unit']);
    expect(passes).toBeGreaterThanOrEqual(2);
    expect(await db.query(`SELECT 1 FROM job_leases WHERE job = 'orphaned'`)).toEqual([]);
  });

  it('looks for work once per lease period in a job without a schedule of its own', async () => {
    const runner = new JobRunner(db, { leaseMs: 300 });
    let passes = 0;
    const definition: JobDefinition = { name: 'unscheduled', delayMs: 0, async pass() { passes += 1; return { done: 0, more: false }; } };
    runner.register(definition);
    await until(() => passes >= 2);
    await runner.close();
  });

  it('gives the hook the units a pass has newly taken, before the pass works on them', async () => {
    const hooked: string[][] = [];
    const runner = new JobRunner(db, { afterLease: async (job, units) => { hooked.push([job, ...units]); } });
    runner.register({
      name: 'hooked', delayMs: 0,
      async pass({ lease }) {
        await lease(['a', 'b']);
        await lease(['b', 'c']);
        return { done: 0, more: false };
      },
    });
    await runner.flush('hooked');
    await runner.close();
    expect(hooked).toEqual([['hooked', 'a', 'b'], ['hooked', 'c']]);
  });
});

describe.skipIf(!postgresUrl)('the outbox with two processes on one PostgreSQL server', () => {
  let database: TestDatabase;
  const dbs: Db[] = [];
  beforeAll(async () => {
    database = await createMigratedTestDatabase('postgres');
    for (let i = 0; i < 2; i++) dbs.push(await openDb(database.config));
    await migrate(dbs[0]!);
  });
  afterAll(async () => {
    for (const db of dbs) await db.close();
    await database?.drop();
  });

  it('delivers a row once when the second process read it before the first delivered it and leased it after', async () => {
    const delivered: string[] = [];
    const buses = dbs.map(() => {
      const bus = new EventBus();
      bus.durable('settlement.closed', 'probe', async (_tx, payload) => { delivered.push(payload.settlementId); });
      return bus;
    });
    await buses[0]!.transaction(dbs[0]!, async (_tx, publish) => {
      for (const id of ['s1', 's2', 's3']) await publish('settlement.closed', { communityId: 'c1', settlementId: id, period: '2026-11', closedAtMs: 0 });
    });
    // The second process's pass reads the rows, then waits until the first has delivered them and let go of its leases.
    let secondRead: () => void = () => undefined;
    const readBySecond = new Promise<void>((resolve) => { secondRead = resolve; });
    let firstDone: () => void = () => undefined;
    const doneByFirst = new Promise<void>((resolve) => { firstDone = resolve; });
    const runners = dbs.map((db, i) => {
      const runner = new JobRunner(db, { holder: `process-${i}` });
      const outbox = outboxJob(db, buses[i]!, { everyMs: 60_000 });
      const job = runner.register({
        ...outbox,
        pass: ({ lease }) => outbox.pass({
          async lease(units) {
            if (i === 1) {
              secondRead();
              await doneByFirst;
            } else {
              await readBySecond;
            }
            return lease(units);
          },
        }),
      });
      return { runner, job };
    });
    const second = runners[1]!.job.flush();
    await runners[0]!.job.flush();
    firstDone();
    await second;
    await Promise.all(runners.map(({ runner }) => runner.close()));
    expect(delivered.sort()).toEqual(['s1', 's2', 's3']);
    expect(await dbs[0]!.query('SELECT 1 FROM event_outbox')).toEqual([]);
  });
});
