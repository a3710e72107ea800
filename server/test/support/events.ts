import { EventBus } from '../../src/platform/events/index.js';
import { subscribeIntervals } from '../../src/intervals/job.js';
import { subscribeSharing } from '../../src/sharing/job.js';

/**
 * An event bus with the marks the platform subscribes (readings → intervals dirty, intervals →
 * sharing dirty, …), without jobs to wake: these tests run the passes themselves.
 */
export function markingEvents(): EventBus {
  const events = new EventBus();
  subscribeIntervals(events);
  subscribeSharing(events);
  return events;
}
