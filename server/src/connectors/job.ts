import type { JobDefinition } from '../platform/jobs/index.js';
import { CONNECTORS_JOB, type ConnectorService } from './service.js';

/** How often the job looks for due instances without being woken. */
const CHECK_EVERY_MS = 5_000;

/**
 * The `connectors` job on the platform's runner: every few seconds (and when a manager adds,
 * changes or runs one) the due instances are leased — so two processes on one database never
 * run the same instance — and run at once, each with its own timeout.
 */
export function connectorJob(service: ConnectorService): JobDefinition {
  return {
    name: CONNECTORS_JOB,
    delayMs: 100,
    everyMs: CHECK_EVERY_MS,
    pass: (context) => service.runDue(context),
    waitingSince: () => service.waitingSince(),
  };
}
