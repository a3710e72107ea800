import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, storeKinds } from '../support/stores.js';
import { EventBus } from '../../src/platform/events/index.js';
import type { Db } from '../../src/platform/store/db.js';
import type { EventPayload } from '../../src/kernel/events.js';

const changed: EventPayload<'intervals.changed'> = { communityId: 'c1', startsMs: [0, 900_000] };

describe.each(storeKinds)('the event bus on %s', (kind) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await openTestDb(kind));
    await db.exec('CREATE TABLE probe (what text NOT NULL)');
  });
  afterAll(() => close?.());

  const rows = async () => (await db.query<{ what: string }>('SELECT what FROM probe ORDER BY what')).map((r) => r.what);

  it('runs in-transaction subscribers with the publisher\'s tx, and after-commit ones once committed', async () => {
    await db.exec('DELETE FROM probe');
    const bus = new EventBus();
    const order: string[] = [];
    bus.inTransaction('intervals.changed', async (tx, payload) => {
      order.push('in-transaction');
      await tx.query('INSERT INTO probe (what) VALUES ($1)', [`marked ${payload.startsMs.length}`]);
    });
    bus.afterCommit('intervals.changed', async (payload) => {
      // Committed already: another connection (or the next statement) sees the mark.
      order.push(`after commit ${payload.communityId}, sees ${(await rows()).join()}`);
    });
    await bus.transaction(db, async (tx, publish) => {
      await tx.query(`INSERT INTO probe (what) VALUES ('publisher')`);
      await publish('intervals.changed', changed);
      order.push('publisher goes on');
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(order).toEqual(['in-transaction', 'publisher goes on', 'after commit c1, sees marked 2,publisher']);
  });

  it('rolls an in-transaction subscriber\'s writes back with the publisher, and calls no after-commit subscriber', async () => {
    await db.exec('DELETE FROM probe');
    const bus = new EventBus();
    let afterCommit = 0;
    bus.inTransaction('intervals.changed', async (tx) => { await tx.query(`INSERT INTO probe (what) VALUES ('mark')`); });
    bus.afterCommit('intervals.changed', () => { afterCommit += 1; });
    await expect(bus.transaction(db, async (tx, publish) => {
      await tx.query(`INSERT INTO probe (what) VALUES ('publisher')`);
      await publish('intervals.changed', changed);
      throw new Error('the publisher fails after publishing');
    })).rejects.toThrow('the publisher fails');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await rows()).toEqual([]);
    expect(afterCommit).toBe(0);
  });

  it('rolls the publisher back when an in-transaction subscriber fails', async () => {
    await db.exec('DELETE FROM probe');
    const bus = new EventBus();
    bus.inTransaction('intervals.changed', async () => { throw new Error('cannot mark'); });
    await expect(bus.transaction(db, async (tx, publish) => {
      await tx.query(`INSERT INTO probe (what) VALUES ('publisher')`);
      await publish('intervals.changed', changed);
    })).rejects.toThrow('cannot mark');
    expect(await rows()).toEqual([]);
  });

  it('keeps the publisher\'s result when an after-commit subscriber throws or rejects, and still calls the others', async () => {
    await db.exec('DELETE FROM probe');
    const logged: string[] = [];
    const bus = new EventBus((line) => logged.push(line));
    const heard: string[] = [];
    bus.afterCommit('intervals.changed', () => { throw new Error('sync failure'); });
    bus.afterCommit('intervals.changed', async () => { throw new Error('async failure'); });
    bus.afterCommit('intervals.changed', (payload) => { heard.push(payload.communityId); });
    await expect(bus.publish(db, 'intervals.changed', changed)).resolves.toBeUndefined();
    const result = await bus.transaction(db, async (tx, publish) => {
      await tx.query(`INSERT INTO probe (what) VALUES ('kept')`);
      await publish('intervals.changed', changed);
      return 42;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(result).toBe(42);
    expect(await rows()).toEqual(['kept']);
    expect(heard).toEqual(['c1', 'c1']);
    expect(logged.filter((line) => line.endsWith(': sync failure'))).toHaveLength(2);
    expect(logged.filter((line) => line.includes('async failure'))).toHaveLength(2);
  });

  it('writes nothing to the outbox for an event without durable subscribers', async () => {
    const bus = new EventBus();
    bus.afterCommit('settlement.closed', () => undefined);
    await bus.publish(db, 'settlement.closed', { communityId: 'c1', settlementId: 's1', period: '2026-11', closedAtMs: 1 });
    expect(await db.query('SELECT 1 FROM event_outbox')).toEqual([]);
  });
});
