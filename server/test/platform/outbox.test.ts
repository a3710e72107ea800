import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMigratedTestDatabase, storeKinds, type TestDatabase } from '../support/stores.js';
import { openDb, type Db } from '../../src/platform/store/db.js';
import { migrate } from '../../src/platform/store/migrate.js';
import { EventBus, EventRefused, outboxJob, OUTBOX_JOB, type DurableHandler } from '../../src/platform/events/index.js';
import { JobRunner } from '../../src/platform/jobs/index.js';
import type { EventPayload } from '../../src/kernel/events.js';

const closed = (settlementId: string): EventPayload<'settlement.closed'> => ({ communityId: 'c1', settlementId, period: '2026-11', closedAtMs: Date.UTC(2026, 11, 1) });

describe.each(storeKinds)('the durable outbox on %s', (kind) => {
  let dataDir: string | undefined;
  let database: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    // PGlite keeps its files in a folder, so the "restart" below opens the same database again.
    dataDir = kind === 'pglite' ? mkdtempSync(join(tmpdir(), 'gridshare-outbox-')) : undefined;
    database = await createMigratedTestDatabase(kind, dataDir);
    db = await openDb(database.config);
    await migrate(db);
    await db.exec('CREATE TABLE ledger_probe (settlement_id text NOT NULL, subscriber text NOT NULL)');
  });
  // A test that failed half-way leaves no rows for the next.
  beforeEach(async () => { await db.query('DELETE FROM event_outbox'); });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** A platform's bus and runner with the outbox job, as the composition root wires them. */
  function start(on: Db, subscribers: Record<string, DurableHandler<'settlement.closed'>>, retryFirstMs = 50) {
    const bus = new EventBus();
    for (const [name, handler] of Object.entries(subscribers)) bus.durable('settlement.closed', name, handler);
    const jobs = new JobRunner(on, { retryFirstMs: 10 });
    jobs.register(outboxJob(on, bus, { retryFirstMs, everyMs: 60_000 }));
    bus.onOutboxWritten(() => jobs.wake(OUTBOX_JOB));
    return { bus, jobs };
  }
  const record = (subscriber: string): DurableHandler<'settlement.closed'> => async (tx, payload) => {
    await tx.query('INSERT INTO ledger_probe (settlement_id, subscriber) VALUES ($1, $2)', [payload.settlementId, subscriber]);
  };
  const recorded = async (settlementId: string) =>
    (await db.query<{ subscriber: string }>('SELECT subscriber FROM ledger_probe WHERE settlement_id = $1 ORDER BY subscriber', [settlementId])).map((r) => r.subscriber);

  it('keeps an event written in the publisher\'s transaction across a crash and delivers it exactly once after the restart', async () => {
    const first = start(db, { ledger: record('ledger') });
    // The runner is stopped before it could deliver: a crash right after the commit.
    await first.jobs.close();
    await first.bus.publish(db, 'settlement.closed', closed('s-crash'));
    expect(await db.query('SELECT subscriber FROM event_outbox')).toEqual([{ subscriber: 'ledger' }]);
    expect(await recorded('s-crash')).toEqual([]);

    await db.close();
    db = await openDb(database.config);
    const second = start(db, { ledger: record('ledger') });
    await second.jobs.flush(OUTBOX_JOB);
    await second.jobs.flush(OUTBOX_JOB);
    await second.jobs.close();
    expect(await recorded('s-crash')).toEqual(['ledger']);
    expect(await db.query('SELECT 1 FROM event_outbox')).toEqual([]);
  });

  it('delivers soon after the commit without being flushed', async () => {
    const { bus, jobs } = start(db, { ledger: record('ledger') });
    await bus.publish(db, 'settlement.closed', closed('s-woken'));
    for (let i = 0; i < 100 && (await recorded('s-woken')).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await jobs.close();
    expect(await recorded('s-woken')).toEqual(['ledger']);
  });

  it('retries a failing subscriber with a growing delay without holding up the others', async () => {
    let failuresLeft = 2;
    const attempts: number[] = [];
    const { bus, jobs } = start(db, {
      flaky: async (tx, payload) => {
        attempts.push(Date.now());
        if (failuresLeft-- > 0) throw new Error('ledger unavailable');
        await record('flaky')(tx, payload);
      },
      steady: record('steady'),
    }, 400);
    await bus.transaction(db, async (_tx, publish) => {
      await publish('settlement.closed', closed('s-retry'));
    });
    await jobs.flush(OUTBOX_JOB);
    expect(await recorded('s-retry')).toEqual(['steady']);
    // The delay is counted from the failed attempt, not from this query (which a loaded machine may run much later).
    const [row] = await db.query<{ attempts: number; last_error: string; due_ms: number }>(
      `SELECT attempts, last_error, (extract(epoch FROM next_attempt_at) * 1000)::float8 AS due_ms FROM event_outbox WHERE subscriber = 'flaky'`);
    expect(row).toMatchObject({ attempts: 1, last_error: 'ledger unavailable' });
    expect(row!.due_ms - attempts[0]!).toBeGreaterThan(350);
    // Not yet due: a pass now leaves it alone.
    await jobs.flush(OUTBOX_JOB);
    expect(attempts).toHaveLength(1);

    await new Promise((resolve) => setTimeout(resolve, 450));
    await jobs.flush(OUTBOX_JOB);
    expect(attempts).toHaveLength(2);
    const [second] = await db.query<{ attempts: number; due_ms: number }>(
      `SELECT attempts, (extract(epoch FROM next_attempt_at) * 1000)::float8 AS due_ms FROM event_outbox WHERE subscriber = 'flaky'`);
    expect(second!.attempts).toBe(2);
    // The delay doubled: 800 ms after the second attempt.
    expect(second!.due_ms - attempts[1]!).toBeGreaterThan(750);

    await new Promise((resolve) => setTimeout(resolve, 850));
    await jobs.flush(OUTBOX_JOB);
    await jobs.close();
    expect(attempts).toHaveLength(3);
    expect(await recorded('s-retry')).toEqual(['flaky', 'steady']);
    expect(await db.query('SELECT 1 FROM event_outbox')).toEqual([]);
  });

  it('refuses a bad payload when it is published, and the publisher\'s change with it', async () => {
    const { bus, jobs } = start(db, { ledger: record('ledger') });
    const bad = { communityId: 'c1', settlementId: 's-bad', period: '2026-11' } as unknown as EventPayload<'settlement.closed'>;
    await expect(bus.transaction(db, async (tx, publish) => {
      await tx.query(`INSERT INTO ledger_probe (settlement_id, subscriber) VALUES ('s-bad', 'publisher')`);
      await publish('settlement.closed', bad);
    })).rejects.toThrow(EventRefused);
    await expect(bus.publish(db, 'settlement.closed', { ...closed('s-bad'), closedAtMs: Number.NaN })).rejects.toThrow(/closedAtMs must be a finite number/);
    await expect(bus.publish(db, 'settlement.closed', { ...closed('s-bad'), extra: 1 } as EventPayload<'settlement.closed'>)).rejects.toThrow(/extra is not expected/);
    await jobs.close();
    expect(await recorded('s-bad')).toEqual([]);
    expect(await db.query('SELECT 1 FROM event_outbox')).toEqual([]);
  });

  it('refuses a stored row whose payload does not match its event, without calling the subscriber or retrying it', async () => {
    let calls = 0;
    const { jobs } = start(db, { ledger: async () => { calls += 1; } });
    await db.query(`INSERT INTO event_outbox (event, subscriber, payload) VALUES ('settlement.closed', 'ledger', '{"settlementId": 7}')`);
    await jobs.flush(OUTBOX_JOB);
    await jobs.flush(OUTBOX_JOB);
    await jobs.close();
    expect(calls).toBe(0);
    const rows = await db.query<{ refused: boolean; last_error: string }>('SELECT refused_at IS NOT NULL AS refused, last_error FROM event_outbox');
    expect(rows).toEqual([{ refused: true, last_error: expect.stringMatching(/payload\.\w+/) }]);
  });
});
