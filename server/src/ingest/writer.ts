import type { Db, Queryable } from '../platform/store/db.js';
import { CUMULATIVE_QUANTITIES, type Reading } from '../kernel/quantities.js';
import { MessageRejected } from '../readings/index.js';
import { meteringPointsAt } from '../registry/index.js';
import type { CommittedReadings, QuarterMark } from '../kernel/events.js';
import type { EventPublisher, Publish } from '../platform/events/index.js';
import { latestRegisterValues, meterExchangesOf, registerNeighbours, storeReadingsBatch, type DeviceStateDelta, type RegisterPoint as Point } from './store.js';

export interface IngestSource {
  readonly deviceId: string;
  readonly communityId: string;
  readonly meteringPointId: string | null;
  /**
   * When the device was bound to that metering point (epoch ms; null or absent: its first binding).
   * A reading taken before then was measured at the device's earlier site, not at this one.
   */
  readonly boundFrom?: number | null;
}

export interface WriteResult {
  readonly stored: number;
  readonly duplicates: number;
}

/** One message as committed (in `readings.committed`, for the live stream). */
export type CommittedMessage = CommittedReadings;

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
  /**
   * Group commits in flight at once, each on its own connection (PostgreSQL). A device is in at
   * most one of them, so its register checks and cached values stay in order.
   */
  concurrentCommits?: number;
}

/** Counters since start, for the benchmark and metrics. */
export interface WriterStats {
  commits: number;
  messages: number;
  readings: number;
}

type SeriesKey = string;
const seriesKey = (deviceId: string, quantity: string): SeriesKey => `${deviceId}\u0000${quantity}`;

/** The stored readings just before and after a late one. */
type Neighbours = [Point | undefined, Point | undefined];
const lateKey = (deviceId: string, quantity: string, ts: number) => `${seriesKey(deviceId, quantity)}\u0000${ts}`;

/**
 * Group commit of readings: messages from many devices are written in one transaction with
 * one multi-row insert, and each caller's promise resolves only after that transaction has
 * committed, so an acknowledgement (PUBACK, HTTP 2xx) always means durable. The commit publishes
 * `readings.committed` with the quarter hours the new readings fall in, in that transaction, so
 * what derives from them is marked atomically with them.
 */
export class ReadingWriter {
  private queue: Pending[] = [];
  private queuedReadings = 0;
  /** Devices with a message in a commit in flight: their next messages wait for the following one. */
  private readonly busyDevices = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  /** Latest committed register value per series, so in-order data needs no extra query. */
  private readonly latest = new Map<SeriesKey, Point>();
  private readonly maxBatchReadings: number;
  private readonly maxDelayMs: number;
  private readonly concurrentCommits: number;
  private closed = false;
  readonly stats: WriterStats = { commits: 0, messages: 0, readings: 0 };

  constructor(private readonly db: Db, private readonly events: EventPublisher, options: WriterOptions = {}) {
    this.maxBatchReadings = options.maxBatchReadings ?? 5_000;
    this.maxDelayMs = options.maxDelayMs ?? 2;
    this.concurrentCommits = options.concurrentCommits ?? 1;
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
    this.timer = undefined;
    while (this.queue.length > 0 || this.inFlight.size > 0) {
      this.startCommits();
      await Promise.race(this.inFlight);
    }
  }

  /** Forgets cached register values (after a meter exchange or a deletion). */
  forgetDevice(deviceId: string): void {
    for (const key of this.latest.keys()) if (key.startsWith(`${deviceId}\u0000`)) this.latest.delete(key);
  }

  private schedule(): void {
    if (this.inFlight.size >= this.concurrentCommits) return;
    if (this.queuedReadings >= this.maxBatchReadings) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.startCommits();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.startCommits();
      }, this.maxDelayMs);
    }
  }

  private startCommits(): void {
    while (this.inFlight.size < this.concurrentCommits) {
      const batch = this.takeBatch();
      if (batch.length === 0) return;
      const committing: Promise<void> = this.commit(batch).finally(() => {
        for (const pending of batch) this.busyDevices.delete(pending.source.deviceId);
        this.inFlight.delete(committing);
        if (this.queue.length > 0 && !this.closed) this.schedule();
      });
      this.inFlight.add(committing);
    }
  }

  /**
   * The next group, in arrival order, up to the size limit. A device already in a commit in
   * flight keeps all its queued messages for a later one, so its messages commit in order.
   */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    const waiting = new Set<string>();
    let count = 0;
    for (const pending of this.queue) {
      const device = pending.source.deviceId;
      const fits = batch.length === 0 || count + pending.readings.length <= this.maxBatchReadings;
      if (!fits || waiting.has(device) || this.busyDevices.has(device)) {
        waiting.add(device);
        rest.push(pending);
        continue;
      }
      batch.push(pending);
      count += pending.readings.length;
    }
    for (const pending of batch) this.busyDevices.add(pending.source.deviceId);
    this.queue = rest;
    this.queuedReadings -= count;
    return batch;
  }

  private async commit(batch: Pending[]): Promise<void> {
    let outcome: { accepted: Pending[]; results: Map<Pending, WriteResult>; rejected: Map<Pending, MessageRejected> };
    // Register values this batch moves forward; they reach the cache only once committed.
    const staged = new Map<SeriesKey, Point>();
    try {
      outcome = await this.events.transaction(this.db, (tx, publish) => this.writeBatch(tx, publish, batch, staged));
    } catch (error) {
      // Nothing was committed: let every device resend.
      for (const pending of batch) pending.reject(error as Error);
      return;
    }
    for (const [key, point] of staged) this.latest.set(key, point);
    this.stats.commits += 1;
    this.stats.messages += batch.length;
    for (const result of outcome.results.values()) this.stats.readings += result.stored;
    for (const [pending, rejection] of outcome.rejected) pending.reject(rejection);
    for (const pending of outcome.accepted) pending.resolve(outcome.results.get(pending)!);
  }

  private async writeBatch(tx: Queryable, publish: Publish, batch: Pending[], staged: Map<SeriesKey, Point>) {
    const rejected = new Map<Pending, MessageRejected>();
    const accepted: Pending[] = [];
    await this.loadLatest(tx, batch);
    const neighbours = await this.loadNeighbours(tx, batch);
    await this.loadExchanges(tx, batch);
    for (const pending of batch) {
      const problem = pending.refused ?? this.checkRegisters(pending, staged, neighbours);
      if (problem) rejected.set(pending, problem);
      else accepted.push(pending);
    }

    // One statement stores the readings, finds the quarter hours that new readings touch and
    // counts per device. Rows go in device order, so concurrent commits (another process may
    // hold a redelivered message) take their row locks in the same order.
    const ordered = [...accepted].sort((a, b) => compare(a.source.deviceId, b.source.deviceId));
    const devices: string[] = [];
    const quantities: string[] = [];
    const stamps: string[] = [];
    const values: number[] = [];
    const communities: string[] = [];
    const points: (string | null)[] = [];
    /** Readings taken before the device was bound where it is now (sent late, after a move). */
    const earlier: number[] = [];
    for (const pending of ordered) {
      const boundFrom = pending.source.boundFrom ?? null;
      for (const reading of pending.readings) {
        if (boundFrom !== null && Date.parse(reading.ts) < boundFrom) earlier.push(devices.length);
        devices.push(pending.source.deviceId);
        quantities.push(reading.quantity);
        stamps.push(reading.ts);
        values.push(reading.value);
        communities.push(pending.source.communityId);
        points.push(pending.source.meteringPointId);
      }
    }
    if (earlier.length > 0) {
      const found = await meteringPointsAt(tx, earlier.map((i) => ({ deviceId: devices[i]!, ts: stamps[i]! })));
      earlier.forEach((i, k) => { points[i] = found[k]!; });
    }
    const states = deviceStates(batch, rejected);
    const inserted = await storeReadingsBatch(tx, { devices, quantities, stamps, values, communities, points }, states);
    const storedByDevice = new Map<string, number>();
    const quarters: QuarterMark[] = [];
    for (const [deviceId, n] of inserted.storedByDevice) storedByDevice.set(deviceId, n);
    quarters.push(...inserted.quarters);
    if (accepted.length > 0) {
      await publish('readings.committed', {
        messages: accepted.map(({ source, readings }) => ({
          deviceId: source.deviceId, communityId: source.communityId, meteringPointId: source.meteringPointId, boundFrom: source.boundFrom ?? null, readings,
        })),
        quarters,
      });
    }

    // Per device: stored readings go to the first messages, the rest were repeats.
    const results = new Map<Pending, WriteResult>();
    for (const pending of accepted) {
      const left = storedByDevice.get(pending.source.deviceId) ?? 0;
      const stored = Math.min(left, pending.readings.length);
      storedByDevice.set(pending.source.deviceId, left - stored);
      results.set(pending, { stored, duplicates: pending.readings.length - stored });
    }
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
    for (const row of await latestRegisterValues(tx, missingDevices, missingQuantities)) this.latest.set(seriesKey(row.deviceId, row.quantity), row.latest);
  }

  /**
   * The stored neighbours of every register reading that may be late (at or before the newest
   * value known for its series when it comes), in one query. Which readings really are late
   * depends on which earlier messages are accepted, so this asks for a superset.
   */
  private async loadNeighbours(tx: Queryable, batch: Pending[]): Promise<Map<string, Neighbours>> {
    const newest = new Map<SeriesKey, number>();
    const devices: string[] = [];
    const quantities: string[] = [];
    const stamps: Date[] = [];
    for (const pending of batch) {
      // In time order, as checkRegisters goes: a reading also counts as late behind an earlier one of its own message.
      const own = pending.readings.filter((r) => CUMULATIVE_QUANTITIES.has(r.quantity)).sort((a, b) => a.ts.localeCompare(b.ts));
      for (const reading of own) {
        const key = seriesKey(pending.source.deviceId, reading.quantity);
        const ts = Date.parse(reading.ts);
        const known = Math.max(newest.get(key) ?? -Infinity, this.latest.get(key)?.ts ?? -Infinity);
        if (ts <= known) {
          devices.push(pending.source.deviceId);
          quantities.push(reading.quantity);
          stamps.push(new Date(ts));
        }
        newest.set(key, Math.max(known, ts));
      }
    }
    const found = new Map<string, Neighbours>();
    if (devices.length === 0) return found;
    for (const row of await registerNeighbours(tx, devices, quantities, stamps)) {
      found.set(lateKey(row.deviceId, row.quantity, row.ts), [row.previous, row.next]);
    }
    return found;
  }

  private exchangeCache = new Map<string, number[]>();

  /** Meter exchanges of the batch's devices with register readings that the cache does not hold, in one query. */
  private async loadExchanges(tx: Queryable, batch: Pending[]): Promise<void> {
    const missing = [...new Set(batch
      .filter((p) => !this.exchangeCache.has(p.source.deviceId) && p.readings.some((r) => CUMULATIVE_QUANTITIES.has(r.quantity)))
      .map((p) => p.source.deviceId))];
    if (missing.length === 0) return;
    const exchanges = await meterExchangesOf(tx, missing);
    for (const device of missing) this.exchangeCache.set(device, exchanges.get(device) ?? []);
  }

  /**
   * A register never runs backwards within a meter's life. In-order data is checked against the
   * cached latest value; a late reading against its stored neighbours. A meter exchange between
   * two readings separates them.
   */
  private checkRegisters(pending: Pending, batchStaged: Map<SeriesKey, Point>, neighbours: Map<string, Neighbours>): MessageRejected | undefined {
    const staged = new Map<SeriesKey, Point>();
    const device = pending.source.deviceId;
    const exchanges = this.exchangeCache.get(device) ?? [];
    const sorted = [...pending.readings].sort((a, b) => a.ts.localeCompare(b.ts));
    for (const reading of sorted) {
      if (!CUMULATIVE_QUANTITIES.has(reading.quantity)) continue;
      const key = seriesKey(device, reading.quantity);
      const ts = Date.parse(reading.ts);
      const latest = staged.get(key) ?? batchStaged.get(key) ?? this.latest.get(key);
      let previous: Point | undefined;
      let next: Point | undefined;
      if (!latest || ts > latest.ts) {
        previous = latest;
      } else {
        const around = neighbours.get(lateKey(device, reading.quantity, ts));
        if (!around) throw new Error(`no neighbours loaded for a late ${reading.quantity} reading of ${device}`);
        [previous, next] = around;
      }
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
    for (const [key, point] of staged) batchStaged.set(key, point);
    return undefined;
  }

  /** After a meter exchange is recorded, the device's series start afresh. */
  exchangeRecorded(deviceId: string): void {
    this.exchangeCache.delete(deviceId);
  }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);


/** What one group commit adds to each device's counters, in device order. */
function deviceStates(batch: readonly Pending[], rejected: ReadonlyMap<Pending, MessageRejected>): DeviceStateDelta[] {
  const byDevice = new Map<string, DeviceStateDelta>();
  for (const pending of batch) {
    const id = pending.source.deviceId;
    let state = byDevice.get(id);
    if (!state) {
      state = { device: id, community: pending.source.communityId, messages: 0, attempted: 0, rejected: 0, error: null };
      byDevice.set(id, state);
    }
    state.messages += 1;
    const rejection = rejected.get(pending);
    if (rejection) {
      state.rejected += 1;
      state.error = `${rejection.code}: ${rejection.message}`;
    } else {
      state.attempted += pending.readings.length;
    }
  }
  return [...byDevice.values()].sort((a, b) => compare(a.device, b.device));
}
