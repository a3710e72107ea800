import type { Db, Queryable } from '../store/db.js';
import { CUMULATIVE_QUANTITIES, type Reading } from '../readings/quantities.js';
import { MessageRejected } from '../readings/message.js';

export interface IngestSource {
  readonly deviceId: string;
  readonly communityId: string;
  readonly meteringPointId: string | null;
}

export interface WriteResult {
  readonly stored: number;
  readonly duplicates: number;
}

/** What was committed in one group commit, for the live stream and the interval scheduler. */
export interface CommittedMessage extends IngestSource {
  readonly readings: readonly Reading[];
}

interface Pending {
  source: IngestSource;
  readings: Reading[];
  /** Set for a message refused before it reached the writer; only counted. */
  refused?: MessageRejected;
  resolve: (result: WriteResult) => void;
  reject: (error: Error) => void;
}

export interface WriterOptions {
  /** A group commit takes at most this many readings… */
  maxBatchReadings?: number;
  /** …and waits at most this long for more to arrive once one is pending. */
  maxDelayMs?: number;
  onCommitted?: (messages: readonly CommittedMessage[]) => void;
}

type SeriesKey = string;
const seriesKey = (deviceId: string, quantity: string): SeriesKey => `${deviceId}\u0000${quantity}`;

interface Point {
  ts: number;
  value: number;
}

/**
 * Group commit of readings: messages from many devices are written in one transaction with
 * one multi-row insert, and each caller's promise resolves only after that transaction has
 * committed, so an acknowledgement (PUBACK, HTTP 2xx) always means durable.
 */
export class ReadingWriter {
  private queue: Pending[] = [];
  private queuedReadings = 0;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Latest committed register value per series, so in-order data needs no extra query. */
  private readonly latest = new Map<SeriesKey, Point>();
  private readonly maxBatchReadings: number;
  private readonly maxDelayMs: number;
  private closed = false;

  constructor(private readonly db: Db, private readonly options: WriterOptions = {}) {
    this.maxBatchReadings = options.maxBatchReadings ?? 5_000;
    this.maxDelayMs = options.maxDelayMs ?? 2;
  }

  write(source: IngestSource, readings: Reading[]): Promise<WriteResult> {
    if (this.closed) return Promise.reject(new Error('the reading writer is closed'));
    return new Promise<WriteResult>((resolve, reject) => {
      this.queue.push({ source, readings, resolve, reject });
      this.queuedReadings += readings.length;
      this.schedule();
    });
  }

  /**
   * Counts a message refused by validation in the device's state (visible in the API), in
   * the next group commit rather than in a transaction of its own.
   */
  recordRefusal(source: IngestSource, rejection: MessageRejected): void {
    if (this.closed) return;
    this.queue.push({ source, readings: [], refused: rejection, resolve: () => undefined, reject: () => undefined });
    this.schedule();
  }

  /** Writes what is queued and stops accepting more. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    while (this.queue.length > 0 || this.flushing) {
      await (this.flushing ?? this.flush());
    }
  }

  /** Forgets cached register values (after a meter exchange or a deletion). */
  forgetDevice(deviceId: string): void {
    for (const key of this.latest.keys()) if (key.startsWith(`${deviceId}\u0000`)) this.latest.delete(key);
  }

  private schedule(): void {
    if (this.flushing) return;
    if (this.queuedReadings >= this.maxBatchReadings) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.maxDelayMs);
    }
  }

  private flush(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return this.flushing ?? Promise.resolve();
    const batch: Pending[] = [];
    let count = 0;
    while (this.queue.length > 0 && (batch.length === 0 || count + this.queue[0]!.readings.length <= this.maxBatchReadings)) {
      const next = this.queue.shift()!;
      batch.push(next);
      count += next.readings.length;
    }
    this.queuedReadings -= count;
    this.flushing = this.commit(batch).finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.schedule();
    });
    return this.flushing;
  }

  private async commit(batch: Pending[]): Promise<void> {
    let outcome: { accepted: Pending[]; results: Map<Pending, WriteResult>; rejected: Map<Pending, MessageRejected> };
    const cacheBefore = new Map(this.latest);
    try {
      outcome = await this.db.transaction((tx) => this.writeBatch(tx, batch));
    } catch (error) {
      // Nothing was committed: restore the cache and let every device resend.
      this.latest.clear();
      for (const [key, point] of cacheBefore) this.latest.set(key, point);
      for (const pending of batch) pending.reject(error as Error);
      return;
    }
    for (const [pending, rejection] of outcome.rejected) pending.reject(rejection);
    for (const pending of outcome.accepted) pending.resolve(outcome.results.get(pending)!);
    if (outcome.accepted.length > 0) {
      this.options.onCommitted?.(outcome.accepted.map((p) => ({ ...p.source, readings: p.readings })));
    }
  }

  private async writeBatch(tx: Queryable, batch: Pending[]) {
    const rejected = new Map<Pending, MessageRejected>();
    const accepted: Pending[] = [];
    await this.loadLatest(tx, batch);
    for (const pending of batch) {
      const problem = pending.refused ?? (await this.checkRegisters(tx, pending));
      if (problem) rejected.set(pending, problem);
      else accepted.push(pending);
    }

    const devices: string[] = [];
    const quantities: string[] = [];
    const stamps: string[] = [];
    const values: number[] = [];
    const communities: string[] = [];
    const points: (string | null)[] = [];
    for (const pending of accepted) {
      for (const reading of pending.readings) {
        devices.push(pending.source.deviceId);
        quantities.push(reading.quantity);
        stamps.push(reading.ts);
        values.push(reading.value);
        communities.push(pending.source.communityId);
        points.push(pending.source.meteringPointId);
      }
    }
    const inserted = devices.length === 0 ? [] : await tx.query<{ device_id: string; n: number }>(
      `WITH ins AS (
         INSERT INTO readings (device_id, quantity, ts, value, community_id, metering_point_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::float8[], $5::uuid[], $6::uuid[])
         ON CONFLICT DO NOTHING
         RETURNING device_id)
       SELECT device_id, count(*)::int AS n FROM ins GROUP BY device_id`,
      [devices, quantities, stamps, values, communities, points],
    );
    const storedByDevice = new Map(inserted.map((row) => [row.device_id, row.n]));
    if (devices.length > 0) {
      await tx.query(
        `INSERT INTO interval_dirty (metering_point_id, start)
         SELECT DISTINCT p, date_bin('15 minutes', t, TIMESTAMPTZ '2000-01-01 00:00:00+00')
         FROM unnest($1::uuid[], $2::timestamptz[]) AS u(p, t) WHERE p IS NOT NULL
         ON CONFLICT (metering_point_id, start) DO UPDATE SET version = nextval('interval_dirty_version')`,
        [points, stamps],
      );
    }

    // Per device: stored readings go to the first messages, the rest were repeats.
    const results = new Map<Pending, WriteResult>();
    for (const pending of accepted) {
      const left = storedByDevice.get(pending.source.deviceId) ?? 0;
      const stored = Math.min(left, pending.readings.length);
      storedByDevice.set(pending.source.deviceId, left - stored);
      results.set(pending, { stored, duplicates: pending.readings.length - stored });
    }
    await this.updateDeviceState(tx, batch, results, rejected);
    return { accepted, results, rejected };
  }

  /** One query for every register series in the batch that the cache does not know yet. */
  private async loadLatest(tx: Queryable, batch: Pending[]): Promise<void> {
    const missingDevices: string[] = [];
    const missingQuantities: string[] = [];
    const seen = new Set<SeriesKey>();
    for (const pending of batch) {
      for (const reading of pending.readings) {
        if (!CUMULATIVE_QUANTITIES.has(reading.quantity)) continue;
        const key = seriesKey(pending.source.deviceId, reading.quantity);
        if (this.latest.has(key) || seen.has(key)) continue;
        seen.add(key);
        missingDevices.push(pending.source.deviceId);
        missingQuantities.push(reading.quantity);
      }
    }
    if (missingDevices.length === 0) return;
    const rows = await tx.query<{ device_id: string; quantity: string; ts: Date; value: number }>(
      `SELECT s.device_id, s.quantity, r.ts, r.value
       FROM unnest($1::text[], $2::text[]) AS s(device_id, quantity)
       CROSS JOIN LATERAL (
         SELECT ts, value FROM readings
         WHERE device_id = s.device_id AND quantity = s.quantity ORDER BY ts DESC LIMIT 1) r`,
      [missingDevices, missingQuantities],
    );
    for (const row of rows) this.latest.set(seriesKey(row.device_id, row.quantity), { ts: row.ts.getTime(), value: row.value });
  }

  /**
   * A register never runs backwards within a meter's life. In-order data is checked against the
   * cached latest value; a late reading against its stored neighbours. A meter exchange between
   * two readings separates them.
   */
  private async checkRegisters(tx: Queryable, pending: Pending): Promise<MessageRejected | undefined> {
    const staged = new Map<SeriesKey, Point>();
    const sorted = [...pending.readings].sort((a, b) => a.ts.localeCompare(b.ts));
    for (const reading of sorted) {
      if (!CUMULATIVE_QUANTITIES.has(reading.quantity)) continue;
      const key = seriesKey(pending.source.deviceId, reading.quantity);
      const ts = Date.parse(reading.ts);
      const latest = staged.get(key) ?? this.latest.get(key);
      let previous: Point | undefined;
      let next: Point | undefined;
      if (!latest || ts > latest.ts) {
        previous = latest;
      } else {
        [previous, next] = await this.neighbours(tx, pending.source.deviceId, reading.quantity, ts);
      }
      const exchanges = await this.exchangesBetween(tx, pending.source.deviceId, previous?.ts, next?.ts ?? ts);
      if (previous && reading.value < previous.value && !exchanges.some((x) => x > previous!.ts && x <= ts)) {
        return new MessageRejected('register-backwards',
          `${reading.quantity} went backwards from ${previous.value} to ${reading.value} at ${reading.ts}; record a meter exchange first if the meter was replaced`);
      }
      if (next && reading.value > next.value && !exchanges.some((x) => x > ts && x <= next!.ts)) {
        return new MessageRejected('register-backwards',
          `${reading.quantity} at ${reading.ts} is ${reading.value}, above the later reading ${next.value}`);
      }
      if (!latest || ts > latest.ts) staged.set(key, { ts, value: reading.value });
    }
    for (const [key, point] of staged) this.latest.set(key, point);
    return undefined;
  }

  private async neighbours(tx: Queryable, deviceId: string, quantity: string, ts: number): Promise<[Point | undefined, Point | undefined]> {
    const rows = await tx.query<{ side: string; ts: Date; value: number }>(
      `(SELECT 'prev' AS side, ts, value FROM readings WHERE device_id = $1 AND quantity = $2 AND ts < $3 ORDER BY ts DESC LIMIT 1)
       UNION ALL
       (SELECT 'next' AS side, ts, value FROM readings WHERE device_id = $1 AND quantity = $2 AND ts > $3 ORDER BY ts ASC LIMIT 1)`,
      [deviceId, quantity, new Date(ts)],
    );
    const point = (side: string) => {
      const row = rows.find((r) => r.side === side);
      return row ? { ts: row.ts.getTime(), value: row.value } : undefined;
    };
    return [point('prev'), point('next')];
  }

  private exchangeCache = new Map<string, number[]>();

  private async exchangesBetween(tx: Queryable, deviceId: string, from: number | undefined, to: number): Promise<number[]> {
    if (from === undefined) return [];
    let instants = this.exchangeCache.get(deviceId);
    if (!instants) {
      const rows = await tx.query<{ ts: Date }>('SELECT ts FROM meter_exchanges WHERE device_id = $1', [deviceId]);
      instants = rows.map((r) => r.ts.getTime());
      this.exchangeCache.set(deviceId, instants);
    }
    return instants.filter((x) => x > from && x <= to);
  }

  /** After a meter exchange is recorded, the device's series start afresh. */
  exchangeRecorded(deviceId: string): void {
    this.exchangeCache.delete(deviceId);
  }

  private async updateDeviceState(
    tx: Queryable,
    batch: Pending[],
    results: Map<Pending, WriteResult>,
    rejected: Map<Pending, MessageRejected>,
  ): Promise<void> {
    const byDevice = new Map<string, { community: string; messages: number; readings: number; duplicates: number; rejected: number; error: string | null }>();
    for (const pending of batch) {
      const id = pending.source.deviceId;
      const state = byDevice.get(id) ?? { community: pending.source.communityId, messages: 0, readings: 0, duplicates: 0, rejected: 0, error: null };
      state.messages += 1;
      const result = results.get(pending);
      if (result) {
        state.readings += result.stored;
        state.duplicates += result.duplicates;
      }
      const rejection = rejected.get(pending);
      if (rejection) {
        state.rejected += 1;
        state.error = `${rejection.code}: ${rejection.message}`;
      }
      byDevice.set(id, state);
    }
    const ids = [...byDevice.keys()];
    const states = [...byDevice.values()];
    await tx.query(
      `INSERT INTO device_state AS s (device_id, community_id, last_seen_at, messages_total, readings_total, duplicates_total, rejected_total, last_error, last_error_at)
       SELECT d, c, now(), m, r, du, rj, e, CASE WHEN e IS NULL THEN NULL ELSE now() END
       FROM unnest($1::text[], $2::uuid[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::text[]) AS u(d, c, m, r, du, rj, e)
       ON CONFLICT (device_id) DO UPDATE SET
         last_seen_at = now(),
         messages_total = s.messages_total + EXCLUDED.messages_total,
         readings_total = s.readings_total + EXCLUDED.readings_total,
         duplicates_total = s.duplicates_total + EXCLUDED.duplicates_total,
         rejected_total = s.rejected_total + EXCLUDED.rejected_total,
         last_error = COALESCE(EXCLUDED.last_error, s.last_error),
         last_error_at = COALESCE(EXCLUDED.last_error_at, s.last_error_at)`,
      [ids, states.map((s) => s.community), states.map((s) => s.messages), states.map((s) => s.readings),
        states.map((s) => s.duplicates), states.map((s) => s.rejected), states.map((s) => s.error)],
    );
  }
}
