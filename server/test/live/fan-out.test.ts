import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../support/stores.js';
import { openDb, type Db } from '../../src/platform/store/db.js';
import { openBroadcast, type Broadcast } from '../../src/platform/store/broadcast.js';
import { LIVE_CHANNEL, LiveHub, MAX_WAITING_BROADCASTS } from '../../src/live/hub.js';
import type { LiveEvent } from '../../src/live/hub.js';
import type { CommittedMessage } from '../../src/ingest/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

const message = (deviceId: string, meteringPointId: string, ts: string, value: number): CommittedMessage => ({
  deviceId, communityId: 'community-1', meteringPointId, boundFrom: null, readings: [{ quantity: 'power.import', ts, value }],
});

/**
 * Two processes' hubs on one PostgreSQL (LISTEN/NOTIFY): what one commits reaches the browsers
 * of the other, once; what is not a hub's message is ignored without stopping the ones after it.
 */
describe.skipIf(!postgresUrl)('live readings across processes (PostgreSQL)', () => {
  let database: TestDatabase;
  let db: Db;
  const broadcasts: Broadcast[] = [];
  const logged: string[] = [];
  let hubs: [LiveHub, LiveHub];
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    db = await openDb(database.config);
    const url = (database.config as { url: string }).url;
    hubs = [new LiveHub((line) => logged.push(line)), new LiveHub((line) => logged.push(line))];
    for (const hub of hubs) {
      const broadcast = await openBroadcast(url, db, (line) => logged.push(line));
      broadcasts.push(broadcast);
      await hub.connect(broadcast);
    }
  });
  afterAll(async () => {
    for (const broadcast of broadcasts) await broadcast.close();
    await db?.close();
    await database?.drop();
  });

  function watch(hub: LiveHub, meteringPointIds?: string[]): LiveEvent[] {
    const seen: LiveEvent[] = [];
    hub.subscribe({ communityId: 'community-1', meteringPointIds: meteringPointIds && new Set(meteringPointIds), send: (event) => seen.push(event) });
    return seen;
  }

  it('delivers what one process committed to the other\'s watchers, each once, and only to those who may see it', async () => {
    const [a, b] = hubs;
    const onA = watch(a);
    const onB = watch(b);
    const memberOnB = watch(b, ['point-2']);
    b.publish([message('dev-1', 'point-1', '2026-12-01T10:00:00.000Z', 1_200), message('dev-2', 'point-2', '2026-12-01T10:00:01.000Z', 300)]);
    await until(() => onA.length === 2);
    await sleep(200);
    expect(onA).toEqual([
      { meteringPointId: 'point-1', deviceId: 'dev-1', ts: '2026-12-01T10:00:00.000Z', values: { 'power.import': 1_200 } },
      { meteringPointId: 'point-2', deviceId: 'dev-2', ts: '2026-12-01T10:00:01.000Z', values: { 'power.import': 300 } },
    ]);
    // B's own watchers had them at once and not again from the broadcast.
    expect(onB).toEqual(onA);
    expect(memberOnB.map((event) => event.meteringPointId)).toEqual(['point-2']);
  });

  it('splits a large commit into notifications under PostgreSQL\'s size limit, losing none', async () => {
    const [a, b] = hubs;
    const onB = watch(b);
    const many = Array.from({ length: 400 }, (_, i) => message(`device-with-a-long-name-${i}`, `point-${i}`, new Date(Date.UTC(2026, 11, 1) + i * 1_000).toISOString(), i));
    a.publish(many);
    await until(() => onB.length === 400);
    expect(onB.map((event) => event.values['power.import'])).toEqual(many.map((_, i) => i));
    expect(logged.filter((line) => /not sent/.test(line))).toEqual([]);
  });

  it('keeps at most MAX_WAITING_BROADCASTS notifications waiting while the database is slow, drops the newest, says so, and sends again after', async () => {
    const [, b] = hubs;
    const onB = watch(b);
    // A third process whose one pooled connection is busy: its notifications wait.
    const slowDb = await openDb({ kind: 'postgres', url: (database.config as { url: string }).url, poolSize: 1 });
    const slowLog: string[] = [];
    const slow = new LiveHub((line) => slowLog.push(line));
    const slowBroadcast = await openBroadcast((database.config as { url: string }).url, slowDb, (line) => slowLog.push(line));
    broadcasts.push(slowBroadcast);
    await slow.connect(slowBroadcast);
    let release: (() => void) | undefined;
    const busy = slowDb.transaction(() => new Promise<void>((resolve) => { release = resolve; }));
    await until(() => release !== undefined);
    const commits = MAX_WAITING_BROADCASTS + 44;
    for (let i = 0; i < commits; i++) slow.publish([message(`dev-${i}`, 'point-1', new Date(Date.UTC(2026, 11, 2) + i * 1_000).toISOString(), i)]);
    expect(slow.waitingBroadcasts).toBe(MAX_WAITING_BROADCASTS);
    release!();
    await busy;
    await until(() => onB.length === MAX_WAITING_BROADCASTS && slow.waitingBroadcasts === 0);
    // The oldest went, in order; the newest 44 were dropped, told when the first was and when the queue emptied.
    expect(onB.map((event) => event.values['power.import'])).toEqual(Array.from({ length: MAX_WAITING_BROADCASTS }, (_, i) => i));
    expect(slowLog).toEqual([
      `gridshare: live events are not being sent to the other processes: more than ${MAX_WAITING_BROADCASTS} notifications wait for the database`,
      'gridshare: 44 live events were not sent to the other processes: the database sent slower than readings were committed',
    ]);
    slow.publish([message('dev-after', 'point-1', '2026-12-02T12:00:00.000Z', -1)]);
    await until(() => onB.length === MAX_WAITING_BROADCASTS + 1);
    expect(onB.at(-1)!.deviceId).toBe('dev-after');
    await slowBroadcast.close();
    broadcasts.splice(broadcasts.indexOf(slowBroadcast), 1);
    await slowDb.close();
  });

  it('ignores a notification that is not a hub\'s message, and delivers the next', async () => {
    const [a, b] = hubs;
    const onA = watch(a);
    await db.query('SELECT pg_notify($1, $2)', [LIVE_CHANNEL, 'not json {']);
    await db.query('SELECT pg_notify($1, $2)', [LIVE_CHANNEL, JSON.stringify({ from: 'someone', events: [{ communityId: 'community-1', event: { meteringPointId: 7 } }, 'x', null] })]);
    await db.query('SELECT pg_notify($1, $2)', [LIVE_CHANNEL, JSON.stringify({ from: 'someone', events: [{ communityId: 'community-1', event: { meteringPointId: 'p', deviceId: 'd', ts: 't', values: { 'power.import': 'NaN' } } }] })]);
    b.publish([message('dev-9', 'point-9', '2026-12-01T11:00:00.000Z', 9)]);
    await until(() => onA.length === 1);
    expect(onA.map((event) => event.deviceId)).toEqual(['dev-9']);
    expect(logged).toContain('gridshare: a live broadcast that is not JSON was ignored');
  });
});
