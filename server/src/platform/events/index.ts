export { EventBus, EventRefused, type EventPublisher, type EventSubscriber, type Publish,
  type InTransactionHandler, type AfterCommitHandler, type DurableHandler } from './bus.js';
export { outboxJob, OUTBOX_JOB, type OutboxOptions } from './outbox.js';
