import type { EventSubscriber } from '../platform/events/index.js';
import { deleteCommunityReadings } from './store.js';

/**
 * A deleted community's raw readings go after it (they have no foreign key to it: one would cost
 * every group commit). Durable: the outbox retries a failed deletion until it is done, once.
 */
export function subscribeIngest(events: EventSubscriber): void {
  events.durable('community.deleted', 'ingest', async (tx, { communityId }) => {
    await deleteCommunityReadings(tx, communityId);
  });
}
