import { randomBytes } from 'node:crypto';
import type { CommittedMessage } from '../ingest/index.js';
import type { Quantity } from '../kernel/quantities.js';
import { MAX_BROADCAST_BYTES, type Broadcast } from '../platform/store/broadcast.js';

/** The channel every process's hub sends its committed readings on and listens to. */
export const LIVE_CHANNEL = 'gridshare_live';

/** What a browser receives for each stored message: the device's newest values by quantity. */
export interface LiveEvent {
  readonly meteringPointId: string;
  readonly deviceId: string;
  readonly ts: string;
  readonly values: Partial<Record<Quantity, number>>;
}

export interface LiveSubscriber {
  readonly communityId: string;
  /** Undefined: every metering point of the community (managers). Narrowed or widened while the stream is open. */
  meteringPointIds: ReadonlySet<string> | undefined;
  send(event: LiveEvent): void;
}

/**
 * Notifications waiting to be sent to the other processes at most (each up to 7,900 bytes). When
 * the database sends slower than this process commits, the newest are dropped: a live view may
 * miss a reading (it is stored, and the next one follows within a minute), while a queue without a
 * bound grew with every reading for as long as the database lagged.
 */
export const MAX_WAITING_BROADCASTS = 256;

/** A live event and the community whose watchers may receive it. */
interface RoutedEvent {
  readonly communityId: string;
  readonly event: LiveEvent;
}

/**
 * Fans committed readings out to the browsers watching them. Only what was committed is
 * pushed, so the live view never shows a reading that a crash could take back. Connected to a
 * broadcast (several processes on one PostgreSQL), it sends what this process committed to the
 * other processes' hubs and delivers theirs here, so a browser sees every reading whichever
 * process it is connected to and whichever ingested the reading.
 */
export class LiveHub {
  private readonly byCommunity = new Map<string, Set<LiveSubscriber>>();
  /** This hub's name in the broadcast, to tell its own messages from the others'. */
  private readonly origin = randomBytes(8).toString('hex');
  private broadcast: Broadcast | undefined;
  private sending: Promise<void> = Promise.resolve();
  /** Notifications queued in `sending` and not yet sent. */
  private waiting = 0;
  /** Events dropped since the queue was last empty, told in the log at the first and once it is empty again. */
  private dropped = 0;

  constructor(private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}

  subscribe(subscriber: LiveSubscriber): () => void {
    let set = this.byCommunity.get(subscriber.communityId);
    if (!set) this.byCommunity.set(subscriber.communityId, (set = new Set()));
    set.add(subscriber);
    return () => {
      set.delete(subscriber);
      if (set.size === 0) this.byCommunity.delete(subscriber.communityId);
    };
  }

  get subscriberCount(): number {
    let n = 0;
    for (const set of this.byCommunity.values()) n += set.size;
    return n;
  }

  /** From now on, what this process commits reaches the other processes' hubs and theirs reaches this one. */
  async connect(broadcast: Broadcast): Promise<void> {
    await broadcast.listen(LIVE_CHANNEL, (payload) => this.received(payload));
    this.broadcast = broadcast;
  }

  publish(messages: readonly CommittedMessage[]): void {
    const routed: RoutedEvent[] = [];
    for (const message of messages) {
      if (!message.meteringPointId) continue;
      // What a moved device measured before it came to this site is not this site's (nor its owner's).
      const boundFrom = message.boundFrom ?? null;
      const readings = boundFrom === null ? message.readings : message.readings.filter((r) => Date.parse(r.ts) >= boundFrom);
      if (readings.length === 0) continue;
      routed.push({ communityId: message.communityId, event: toEvent({ ...message, readings }, message.meteringPointId) });
    }
    for (const { communityId, event } of routed) this.deliver(communityId, event);
    if (this.broadcast && routed.length > 0) this.send(this.broadcast, routed);
  }

  private deliver(communityId: string, event: LiveEvent): void {
    for (const subscriber of this.byCommunity.get(communityId) ?? []) {
      if (subscriber.meteringPointIds && !subscriber.meteringPointIds.has(event.meteringPointId)) continue;
      subscriber.send(event);
    }
  }

  /** In notifications under PostgreSQL's size limit, as many events in each as fit. */
  private send(broadcast: Broadcast, routed: readonly RoutedEvent[]): void {
    const head = `{"from":"${this.origin}","events":[`;
    let batch: string[] = [];
    let bytes = head.length + 2;
    const flush = () => {
      if (batch.length === 0) return;
      if (this.waiting >= MAX_WAITING_BROADCASTS) {
        // Said at once, since a database that never catches up would never empty the queue.
        if (this.dropped === 0) this.log(`gridshare: live events are not being sent to the other processes: more than ${MAX_WAITING_BROADCASTS} notifications wait for the database`);
        this.dropped += batch.length;
      } else {
        const payload = `${head}${batch.join(',')}]}`;
        this.waiting += 1;
        // One after the other: sent over several pooled connections at once they could arrive out of order.
        this.sending = this.sending.then(() => broadcast.publish(LIVE_CHANNEL, payload))
          .catch((error: Error) => this.log(`gridshare: live readings not sent to the other processes: ${error.message}`))
          .finally(() => this.sent());
      }
      batch = [];
      bytes = head.length + 2;
    };
    for (const item of routed) {
      const json = JSON.stringify(item);
      const size = Buffer.byteLength(json) + 1;
      // Only a message with hundreds of quantities is this large: this process's own browsers have it.
      if (head.length + 2 + size > MAX_BROADCAST_BYTES) continue;
      if (bytes + size > MAX_BROADCAST_BYTES) flush();
      batch.push(json);
      bytes += size;
    }
    flush();
  }

  private sent(): void {
    this.waiting -= 1;
    if (this.waiting > 0 || this.dropped === 0) return;
    this.log(`gridshare: ${this.dropped} live events were not sent to the other processes: the database sent slower than readings were committed`);
    this.dropped = 0;
  }

  /** Notifications waiting to be sent to the other processes (at most MAX_WAITING_BROADCASTS). */
  get waitingBroadcasts(): number {
    return this.waiting;
  }

  /** Another process's committed readings, for the browsers watching here. */
  private received(payload: string): void {
    let message: unknown;
    try {
      message = JSON.parse(payload);
    } catch {
      this.log('gridshare: a live broadcast that is not JSON was ignored');
      return;
    }
    const { from, events } = (message ?? {}) as { from?: unknown; events?: unknown };
    if (from === this.origin || !Array.isArray(events)) return;
    for (const item of events) {
      if (isRoutedEvent(item)) this.deliver(item.communityId, item.event);
    }
  }
}

function isRoutedEvent(value: unknown): value is RoutedEvent {
  const { communityId, event } = (value ?? {}) as Partial<Record<keyof RoutedEvent, unknown>>;
  if (typeof communityId !== 'string' || typeof event !== 'object' || event === null) return false;
  const { meteringPointId, deviceId, ts, values } = event as Partial<Record<keyof LiveEvent, unknown>>;
  return typeof meteringPointId === 'string' && typeof deviceId === 'string' && typeof ts === 'string'
    && typeof values === 'object' && values !== null && Object.values(values).every((v) => typeof v === 'number');
}

function toEvent(message: CommittedMessage, meteringPointId: string): LiveEvent {
  const values: Partial<Record<Quantity, number>> = {};
  let ts = '';
  for (const reading of message.readings) {
    if (reading.ts >= ts) ts = reading.ts;
  }
  // The newest value of each quantity in the message.
  const newest = new Map<Quantity, string>();
  for (const reading of message.readings) {
    // Only readings of known quantities are stored (ingestion checks them), so only those are committed.
    const quantity = reading.quantity as Quantity;
    const seen = newest.get(quantity);
    if (seen === undefined || reading.ts >= seen) {
      newest.set(quantity, reading.ts);
      values[quantity] = reading.value;
    }
  }
  return { meteringPointId, deviceId: message.deviceId, ts, values };
}
