import type { Db, Queryable } from '../store/db.js';
import { payloadProblem, type EventName, type EventPayload } from '../../kernel/events.js';

/** Publishes one event inside the transaction it was handed with. */
export type Publish = <N extends EventName>(name: N, payload: EventPayload<N>) => Promise<void>;

/** What a capability that emits events is given. */
export interface EventPublisher {
  /**
   * Runs `work` in one transaction of `db`. Events it publishes reach in-transaction subscribers
   * at once, with the same `tx` (their writes commit or roll back with the publisher's), are
   * written to the outbox for durable subscribers, and reach after-commit subscribers once the
   * transaction committed. Inside `work`, publish with the `publish` given, never with `publish(db, …)`.
   */
  transaction<T>(db: Db, work: (tx: Queryable, publish: Publish) => Promise<T>): Promise<T>;
  /** Publishes one event in a transaction of its own. */
  publish<N extends EventName>(db: Db, name: N, payload: EventPayload<N>): Promise<void>;
}

/**
 * Runs in the publisher's transaction; throwing rolls the publisher's change back. It may publish
 * events of its own with `publish`, in the same transaction.
 */
export type InTransactionHandler<N extends EventName> = (tx: Queryable, payload: EventPayload<N>, publish: Publish) => Promise<void>;
/** Runs after the publisher committed (e.g. wakes a job); a failure is logged, never the publisher's. */
export type AfterCommitHandler<N extends EventName> = (payload: EventPayload<N>) => void | Promise<void>;
/** Runs later, from the outbox, in the transaction that marks the event delivered. */
export type DurableHandler<N extends EventName> = (tx: Queryable, payload: EventPayload<N>) => Promise<void>;

/** What a capability that reacts to events is given. */
export interface EventSubscriber {
  inTransaction<N extends EventName>(name: N, handler: InTransactionHandler<N>): void;
  afterCommit<N extends EventName>(name: N, handler: AfterCommitHandler<N>): void;
  /** `subscriber` names the consumer in the outbox; it must stay the same across restarts. */
  durable<N extends EventName>(name: N, subscriber: string, handler: DurableHandler<N>): void;
}

/** A payload that does not match its event's declaration; nothing was published. */
export class EventRefused extends Error {}

type AnyInTransaction = (tx: Queryable, payload: unknown, publish: Publish) => Promise<void>;
type AnyDurable = (tx: Queryable, payload: unknown) => Promise<void>;
type AnyAfterCommit = (payload: unknown) => void | Promise<void>;

/** The one event bus of a running platform, wired in the composition root. */
export class EventBus implements EventPublisher, EventSubscriber {
  private readonly inTx = new Map<EventName, AnyInTransaction[]>();
  private readonly after = new Map<EventName, AnyAfterCommit[]>();
  private readonly durables = new Map<EventName, Map<string, AnyDurable>>();
  private outboxWritten: () => void = () => undefined;

  constructor(private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}

  inTransaction<N extends EventName>(name: N, handler: InTransactionHandler<N>): void {
    this.inTx.set(name, [...(this.inTx.get(name) ?? []), handler as AnyInTransaction]);
  }

  afterCommit<N extends EventName>(name: N, handler: AfterCommitHandler<N>): void {
    this.after.set(name, [...(this.after.get(name) ?? []), handler as AnyAfterCommit]);
  }

  durable<N extends EventName>(name: N, subscriber: string, handler: DurableHandler<N>): void {
    const byName = this.durables.get(name) ?? new Map<string, AnyDurable>();
    if (byName.has(subscriber)) throw new Error(`${subscriber} already subscribes to ${name}`);
    byName.set(subscriber, handler as AnyDurable);
    this.durables.set(name, byName);
  }

  /** The durable subscriber `subscriber` of `name`, for the outbox job. */
  durableHandler(name: EventName, subscriber: string): AnyDurable | undefined {
    return this.durables.get(name)?.get(subscriber);
  }

  /** Every (event, subscriber) pair with a durable subscriber here. */
  durableSubscriptions(): { event: EventName; subscriber: string }[] {
    return [...this.durables].flatMap(([event, byName]) => [...byName.keys()].map((subscriber) => ({ event, subscriber })));
  }

  /** Called after every commit that wrote to the outbox (the outbox job wakes up). */
  onOutboxWritten(wake: () => void): void {
    this.outboxWritten = wake;
  }

  async transaction<T>(db: Db, work: (tx: Queryable, publish: Publish) => Promise<T>): Promise<T> {
    const committed: { name: EventName; payload: unknown }[] = [];
    let wroteOutbox = false;
    const result = await db.transaction((tx) => {
      const publish: Publish = async (name, payload) => {
        const durable = [...(this.durables.get(name)?.keys() ?? [])];
        if (durable.length > 0) {
          const problem = payloadProblem(name, payload);
          if (problem) throw new EventRefused(`${name}: ${problem}`);
          await tx.query(
            'INSERT INTO event_outbox (event, subscriber, payload) SELECT $1, s, $3::jsonb FROM unnest($2::text[]) AS s',
            [name, durable, JSON.stringify(payload)],
          );
          wroteOutbox = true;
        }
        for (const handler of this.inTx.get(name) ?? []) await handler(tx, payload, publish);
        committed.push({ name, payload });
      };
      return work(tx, publish);
    });
    for (const { name, payload } of committed) this.deliverAfterCommit(name, payload);
    if (wroteOutbox) this.outboxWritten();
    return result;
  }

  publish<N extends EventName>(db: Db, name: N, payload: EventPayload<N>): Promise<void> {
    return this.transaction(db, (_tx, publish) => publish(name, payload));
  }

  private deliverAfterCommit(name: EventName, payload: unknown): void {
    for (const handler of this.after.get(name) ?? []) {
      const failed = (error: unknown) => this.log(`gridshare: a subscriber to ${name} failed after commit: ${(error as Error).message}`);
      try {
        void Promise.resolve(handler(payload)).catch(failed);
      } catch (error) {
        failed(error);
      }
    }
  }
}
