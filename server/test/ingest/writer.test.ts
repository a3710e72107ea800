import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds, openTestDb } from '../support/stores.js';
import { insertCommunityWithDevice } from '../support/fixtures.js';
import { ReadingWriter, type CommittedMessage, type IngestSource } from '../../src/ingest/writer.js';
import { MessageRejected } from '../../src/readings/message.js';
import type { Db } from '../../src/platform/store/db.js';
import type { Reading } from '../../src/kernel/quantities.js';
import { markingEvents } from '../support/events.js';

const wh = (ts: string, value: number, quantity: Reading['quantity'] = 'energy.import'): Reading =>
  ({ ts, quantity, value, unit: 'Wh' } as Reading);

describe.each(storeKinds)('reading writer on %s', (kind) => {
  let db: Db;
  let close: () => Promise<void>;
  let writer: ReadingWriter;
  const committed: CommittedMessage[] = [];
  beforeAll(async () => {
    ({ db, close } = await openTestDb(kind));
    const events = markingEvents();
    events.afterCommit('readings.committed', ({ messages }) => { committed.push(...messages); });
    writer = new ReadingWriter(db, events);
  });
  afterAll(async () => {
    await writer.close();
    await close();
  });

  async function device(): Promise<IngestSource> {
    const f = await insertCommunityWithDevice(db);
    return { deviceId: f.deviceId, communityId: f.communityId, meteringPointId: f.meteringPointId };
  }

  const stored = (deviceId: string) =>
    db.query<{ ts: Date; value: number }>(`SELECT ts, value FROM readings WHERE device_id = $1 AND quantity = 'energy.import' ORDER BY ts`, [deviceId]);

  it('stores readings once: a repeated message is all duplicates', async () => {
    const source = await device();
    const message = [wh('2026-11-20T10:00:00Z', 1000), wh('2026-11-20T10:00:10Z', 1003)];
    expect(await writer.write(source, message)).toEqual({ stored: 2, duplicates: 0 });
    expect(await writer.write(source, message)).toEqual({ stored: 0, duplicates: 2 });
    expect(await stored(source.deviceId)).toHaveLength(2);
    const [state] = await db.query<{ messages_total: number; readings_total: number; duplicates_total: number }>(
      'SELECT messages_total, readings_total, duplicates_total FROM device_state WHERE device_id = $1', [source.deviceId]);
    expect(state).toEqual({ messages_total: 2, readings_total: 2, duplicates_total: 2 });
  });

  it('resolves a write only after its transaction committed, and reports it committed', async () => {
    const source = await device();
    const before = committed.length;
    await writer.write(source, [wh('2026-11-20T11:00:00Z', 5)]);
    // Visible from a separate query right away: the promise resolved after COMMIT.
    expect(await stored(source.deviceId)).toHaveLength(1);
    expect(committed.slice(before).some((m) => m.deviceId === source.deviceId)).toBe(true);
  });

  it('groups concurrent writers into few transactions and answers each', async () => {
    const sources = await Promise.all(Array.from({ length: 5 }, device));
    const results = await Promise.all(sources.flatMap((source) =>
      Array.from({ length: 20 }, (_, i) => writer.write(source, [wh(`2026-11-20T12:${String(i).padStart(2, '0')}:00Z`, 100 + i)]))));
    expect(results.every((r) => r.stored === 1)).toBe(true);
    for (const source of sources) expect(await stored(source.deviceId)).toHaveLength(20);
  });

  it('accepts out-of-order readings between their neighbours', async () => {
    const source = await device();
    await writer.write(source, [wh('2026-11-20T10:00:00Z', 100), wh('2026-11-20T10:30:00Z', 300)]);
    await writer.write(source, [wh('2026-11-20T10:15:00Z', 200)]);
    expect((await stored(source.deviceId)).map((r) => r.value)).toEqual([100, 200, 300]);
  });

  it('refuses a register going backwards, in order or late, and stores nothing of that message', async () => {
    const source = await device();
    await writer.write(source, [wh('2026-11-20T10:00:00Z', 100), wh('2026-11-20T10:30:00Z', 300)]);
    await expect(writer.write(source, [wh('2026-11-20T10:45:00Z', 299)])).rejects.toMatchObject({ code: 'register-backwards' });
    await expect(writer.write(source, [wh('2026-11-20T10:10:00Z', 50)])).rejects.toBeInstanceOf(MessageRejected);
    await expect(writer.write(source, [wh('2026-11-20T10:20:00Z', 301)])).rejects.toMatchObject({ code: 'register-backwards' });
    // A mixed message is refused whole: its good power reading is not stored either.
    await expect(writer.write(source, [
      { ts: '2026-11-20T10:50:00Z', quantity: 'power.import', value: 500, unit: 'W' }, wh('2026-11-20T10:50:00Z', 10),
    ])).rejects.toMatchObject({ code: 'register-backwards' });
    expect((await stored(source.deviceId)).map((r) => r.value)).toEqual([100, 300]);
    expect(await db.query(`SELECT 1 FROM readings WHERE device_id = $1 AND quantity = 'power.import'`, [source.deviceId])).toEqual([]);
    const [state] = await db.query<{ rejected_total: number; last_error: string }>('SELECT rejected_total, last_error FROM device_state WHERE device_id = $1', [source.deviceId]);
    expect(state!.rejected_total).toBe(4);
    expect(state!.last_error).toMatch(/^register-backwards/);
  });

  it('checks several late messages of one group commit against their stored neighbours', async () => {
    const source = await device();
    await writer.write(source, [wh('2026-11-20T10:00:00Z', 100), wh('2026-11-20T10:30:00Z', 300)]);
    // Queued together, so they go into one commit; each is judged on its own.
    const outcomes = await Promise.allSettled([
      writer.write(source, [wh('2026-11-20T10:10:00Z', 150)]),
      writer.write(source, [wh('2026-11-20T10:20:00Z', 320)]),
      writer.write(source, [wh('2026-11-20T10:05:00Z', 90)]),
      writer.write(source, [wh('2026-11-20T10:25:00Z', 290), wh('2026-11-20T10:25:00Z', 290)]),
      writer.write(source, [wh('2026-11-20T10:40:00Z', 400), wh('2026-11-20T10:40:00Z', 400)]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled']);
    expect((await stored(source.deviceId)).map((r) => r.value)).toEqual([100, 150, 290, 300, 400]);
  });

  it('accepts a lower register after a recorded meter exchange, and keeps refusing before it', async () => {
    const source = await device();
    await writer.write(source, [wh('2026-11-20T10:00:00Z', 90_000)]);
    await db.query(`INSERT INTO meter_exchanges (device_id, ts, community_id) VALUES ($1, '2026-11-20T10:05:00Z', $2)`, [source.deviceId, source.communityId]);
    writer.exchangeRecorded(source.deviceId);
    expect(await writer.write(source, [wh('2026-11-20T10:10:00Z', 12)])).toEqual({ stored: 1, duplicates: 0 });
    await expect(writer.write(source, [wh('2026-11-20T10:03:00Z', 10)])).rejects.toMatchObject({ code: 'register-backwards' });
  });

  it('marks the affected quarter hours dirty in the same transaction', async () => {
    const source = await device();
    await writer.write(source, [wh('2026-11-20T10:07:00Z', 1), wh('2026-11-20T10:29:59Z', 2)]);
    const dirty = await db.query<{ start: Date }>('SELECT start FROM interval_dirty WHERE metering_point_id = $1 ORDER BY start', [source.meteringPointId]);
    expect(dirty.map((d) => d.start.toISOString())).toEqual(['2026-11-20T10:00:00.000Z', '2026-11-20T10:15:00.000Z']);
  });

  it('runs group commits concurrently but never one device in two of them, so its registers stay in order', async () => {
    const sources = await Promise.all(Array.from({ length: 4 }, device));
    // Watches the transactions: which devices each one writes, and how many run at once.
    let running = 0;
    let mostAtOnce = 0;
    const active = new Map<number, Set<string>>();
    let overlaps = 0;
    let next = 0;
    const watched: Db = {
      ...db,
      transaction: async (work) => {
        const id = next++;
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        try {
          return await db.transaction((tx) => work({
            ...tx,
            query: async (sql, params) => {
              if (sql.includes('INSERT INTO readings')) {
                const devices = new Set(params![0] as string[]);
                for (const [other, theirs] of active) if (other !== id && [...devices].some((d) => theirs.has(d))) overlaps += 1;
                active.set(id, devices);
              }
              return tx.query(sql, params);
            },
          }));
        } finally {
          running -= 1;
          active.delete(id);
        }
      },
    };
    const concurrent = new ReadingWriter(watched, markingEvents(), { concurrentCommits: 3, maxBatchReadings: 3 });
    // Every device queues twelve increasing register readings at once, in many small groups.
    const writes = sources.flatMap((source) => Array.from({ length: 12 }, (_, i) =>
      concurrent.write(source, [wh(`2026-11-21T08:${String(i * 2).padStart(2, '0')}:00Z`, 1_000 + i * 10)])));
    expect((await Promise.all(writes)).every((r) => r.stored === 1)).toBe(true);
    expect(mostAtOnce).toBeGreaterThan(1);
    expect(overlaps).toBe(0);
    // The cache ends at each device's last value: one below it is refused although it is above the first.
    for (const source of sources) {
      await expect(concurrent.write(source, [wh('2026-11-21T09:00:00Z', 1_050)])).rejects.toMatchObject({ code: 'register-backwards' });
      expect(await stored(source.deviceId)).toHaveLength(12);
    }
    await concurrent.close();
  });

  it('rejects every waiting write when the database fails, so devices resend', async () => {
    const source = await device();
    const broken = new ReadingWriter({ ...db, transaction: async () => { throw new Error('disk full'); } } as Db, markingEvents());
    await expect(broken.write(source, [wh('2026-11-20T10:00:00Z', 1)])).rejects.toThrow('disk full');
    await broken.close();
    expect(await stored(source.deviceId)).toEqual([]);
  });
});
