import type { JobDefinition } from '../platform/jobs/index.js';
import { FLEX_OUTBOX_JOB, type UftpTransport } from './transport.js';

/**
 * The UFTP outbox: POSTs the messages due (new ones at once, failed ones when their retry is
 * due), each community leased so two processes never send the same message at once. Runs when
 * messages are queued and every 15 s for the retries.
 */
export function flexOutboxJob(transport: UftpTransport): JobDefinition {
  return {
    name: FLEX_OUTBOX_JOB,
    delayMs: 50,
    everyMs: 15_000,
    pass: ({ lease }) => transport.deliverDue(lease),
  };
}
