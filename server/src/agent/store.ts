import Database from 'better-sqlite3';
import { quarterOf, registersOnly, thinningStep, type QueuedReading } from './domain/outbox.js';

export interface QueuedRow {
  readonly seq: number;
  /** 'readings' (a JSON array of readings) or the format of a raw frame. */
  readonly kind: string;
  readonly count: number;
  readonly payload: Buffer;
}

export interface QueueStats {
  readonly messages: number;
  readonly readings: number;
  readonly bytes: number;
  readonly oldestAtMs: number | undefined;
  readonly droppedReadings: number;
  readonly thinnedMessages: number;
}

/** The newest hour is never thinned: it is what the platform is most likely about to receive. */
const PROTECTED_MS = 3_600_000;
const THIN_CHUNK = 5_000;

/**
 * The store-and-forward queue: SQLite in WAL mode. A message is committed here before anything
 * is sent and deleted only when the platform acknowledged it, so neither a broken uplink nor a
 * `kill -9` loses what the meter sent (synchronous=NORMAL: a commit survives the agent's crash;
 * after a power cut the last moments before it may be gone, never the file). Over its size cap
 * the queue is thinned, then trimmed (domain/outbox.ts has the policy).
 */
export class OutboxStore {
  private readonly db: Database.Database;
  private totals = { messages: 0, readings: 0, bytes: 0 };
  private counters = { droppedReadings: 0, thinnedMessages: 0 };

  constructor(path: string, private readonly maxBytes: number, private readonly now: () => number = Date.now) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        taken_at INTEGER NOT NULL,
        quarter INTEGER NOT NULL,
        count INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        thinned INTEGER NOT NULL DEFAULT 0,
        payload BLOB NOT NULL
      );
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    const totals = this.db.prepare('SELECT count(*) AS messages, coalesce(sum(count), 0) AS readings, coalesce(sum(bytes), 0) AS bytes FROM outbox').get() as { messages: number; readings: number; bytes: number };
    this.totals = { ...totals };
    for (const name of ['droppedReadings', 'thinnedMessages'] as const) this.counters[name] = Number(this.meta(name) ?? 0);
  }

  append(kind: string, takenAtMs: number, count: number, payload: Uint8Array | string): number {
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const info = this.db.prepare('INSERT INTO outbox (kind, taken_at, quarter, count, bytes, payload) VALUES (?, ?, ?, ?, ?, ?)')
      .run(kind, takenAtMs, quarterOf(takenAtMs), count, bytes.length, bytes);
    this.totals.messages += 1;
    this.totals.readings += count;
    this.totals.bytes += bytes.length;
    if (this.totals.bytes > this.maxBytes) this.enforceCap();
    return Number(info.lastInsertRowid);
  }

  /** The oldest queued messages, in order. */
  peek(limit: number): QueuedRow[] {
    return this.db.prepare('SELECT seq, kind, count, payload FROM outbox ORDER BY seq LIMIT ?').all(limit) as QueuedRow[];
  }

  /** The platform has them: they leave the queue. */
  acknowledge(seqs: readonly number[]): void {
    if (seqs.length === 0) return;
    const remove = this.db.prepare('DELETE FROM outbox WHERE seq = ? RETURNING count, bytes');
    this.db.transaction(() => {
      for (const seq of seqs) {
        const row = remove.get(seq) as { count: number; bytes: number } | undefined;
        if (!row) continue;
        this.totals.messages -= 1;
        this.totals.readings -= row.count;
        this.totals.bytes -= row.bytes;
      }
    })();
  }

  stats(): QueueStats {
    const oldest = this.db.prepare('SELECT taken_at FROM outbox ORDER BY seq LIMIT 1').get() as { taken_at: number } | undefined;
    return { ...this.totals, oldestAtMs: oldest?.taken_at, ...this.counters };
  }

  meta(name: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE name = ?').get(name) as { value: string } | undefined)?.value;
  }

  setMeta(name: string, value: string): void {
    this.db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, value);
  }

  close(): void {
    this.db.close();
  }

  /** Thin to quarter-hour registers, oldest first, down to 90 % of the cap; drop the oldest only when nothing is left to thin. */
  private enforceCap(): void {
    const target = Math.floor(this.maxBytes * 0.9);
    const protectedFrom = this.now() - PROTECTED_MS;
    const select = this.db.prepare('SELECT seq, quarter, kind FROM outbox WHERE thinned = 0 AND taken_at < ? AND seq > ? ORDER BY seq LIMIT ?');
    const read = this.db.prepare('SELECT kind, payload, count, bytes FROM outbox WHERE seq = ?');
    const remove = this.db.prepare('DELETE FROM outbox WHERE seq = ? RETURNING count, bytes');
    const rewrite = this.db.prepare('UPDATE outbox SET thinned = 1, payload = ?, count = ?, bytes = ? WHERE seq = ?');
    this.db.transaction(() => {
      let after = 0;
      while (this.totals.bytes > target) {
        const rows = select.all(protectedFrom, after, THIN_CHUNK) as { seq: number; quarter: number; kind: string }[];
        if (rows.length === 0) break;
        const step = thinningStep(rows, rows.length < THIN_CHUNK);
        if (step.drop.length === 0 && step.keep.length === 0) break;
        for (const seq of step.drop) this.removeRow(remove, seq, false);
        this.counters.thinnedMessages += step.drop.length;
        for (const seq of step.keep) {
          const row = read.get(seq) as { kind: string; payload: Buffer; count: number; bytes: number };
          let payload = row.payload;
          let count = row.count;
          if (row.kind === 'readings') {
            const kept = registersOnly(JSON.parse(row.payload.toString('utf8')) as QueuedReading[]);
            payload = Buffer.from(JSON.stringify(kept));
            count = kept.length;
          }
          rewrite.run(payload, count, payload.length, seq);
          this.totals.readings += count - row.count;
          this.totals.bytes += payload.length - row.bytes;
          this.counters.thinnedMessages += 1;
        }
        after = Math.max(...step.drop, ...step.keep);
      }
      const oldest = this.db.prepare('SELECT seq FROM outbox ORDER BY seq LIMIT 1');
      while (this.totals.bytes > target) {
        const row = oldest.get() as { seq: number } | undefined;
        if (!row) break;
        this.removeRow(remove, row.seq, true);
      }
      this.setMeta('droppedReadings', String(this.counters.droppedReadings));
      this.setMeta('thinnedMessages', String(this.counters.thinnedMessages));
    })();
  }

  private removeRow(remove: Database.Statement, seq: number, countAsDropped: boolean): void {
    const row = remove.get(seq) as { count: number; bytes: number } | undefined;
    if (!row) return;
    this.totals.messages -= 1;
    this.totals.readings -= row.count;
    this.totals.bytes -= row.bytes;
    if (countAsDropped) this.counters.droppedReadings += row.count;
  }
}
