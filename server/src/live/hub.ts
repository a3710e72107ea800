import type { CommittedMessage } from '../ingest/index.js';
import type { Quantity } from '../kernel/quantities.js';

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
 * Fans committed readings out to the browsers watching them. Only what was committed is
 * pushed, so the live view never shows a reading that a crash could take back.
 */
export class LiveHub {
  private readonly byCommunity = new Map<string, Set<LiveSubscriber>>();

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

  publish(messages: readonly CommittedMessage[]): void {
    for (const message of messages) {
      const subscribers = this.byCommunity.get(message.communityId);
      if (!subscribers || !message.meteringPointId) continue;
      // What a moved device measured before it came to this site is not this site's (nor its owner's).
      const boundFrom = message.boundFrom ?? null;
      const readings = boundFrom === null ? message.readings : message.readings.filter((r) => Date.parse(r.ts) >= boundFrom);
      if (readings.length === 0) continue;
      const event = toEvent({ ...message, readings }, message.meteringPointId);
      for (const subscriber of subscribers) {
        if (subscriber.meteringPointIds && !subscriber.meteringPointIds.has(message.meteringPointId)) continue;
        subscriber.send(event);
      }
    }
  }
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
