import type { EventSubscriber } from '../platform/events/index.js';
import type { JobDefinition, JobWaker } from '../platform/jobs/index.js';
import { HOUR_MS, MINUTE_MS } from '../kernel/time.js';
import type { LedgerService } from './service.js';

export const LEDGER_JOB = 'ledger';
export const LEDGER_AUDIT_JOB = 'ledger audit';
/** The one unit both jobs lease: the log (one writer, one auditor at a time across processes). */
const LOG_UNIT = 'log';

/**
 * The ledger job: appends what the event subscribers queued, in batches, then signs a checkpoint
 * of the new size. Woken after a settlement closes or a statement is issued, and every minute
 * (so a checkpoint follows the log's growth within a minute). The head's row lock keeps a second
 * writer out even without the lease; the lease saves it the wait.
 */
export function ledgerJob(service: LedgerService, options: { delayMs?: number } = {}): JobDefinition {
  return {
    name: LEDGER_JOB,
    delayMs: options.delayMs ?? 2_000,
    everyMs: MINUTE_MS,
    async pass({ lease }) {
      if ((await lease([LOG_UNIT])).length === 0) return { done: 0, more: false };
      const { appended, more } = await service.append();
      // The key is made once the server knows its public name (right after it listens).
      if (await service.hasKey()) {
        await service.checkpoint();
        await service.requestCosignatures();
      }
      return { done: appended, more };
    },
    waitingSince: () => service.waitingSince(),
  };
}

/** The auditor: hourly, the tree recomputed from the stored entries against every published checkpoint. */
export function ledgerAuditJob(service: LedgerService, log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): JobDefinition {
  return {
    name: LEDGER_AUDIT_JOB,
    delayMs: 60_000,
    everyMs: HOUR_MS,
    async pass({ lease }) {
      if ((await lease([LOG_UNIT])).length === 0) return { done: 0, more: false };
      const report = await service.audit();
      for (const failure of report.failures) log(`gridshare: LEDGER AUDIT FAILED: ${failure}`);
      return { done: report.entries, more: false };
    },
  };
}

/**
 * Settlements closed, statements issued, flexibility messages, commands to devices, operator
 * imports, market trades, postings and settlement runs, consent changes and money-relevant changes by people become entries: durably (the outbox delivers each
 * event once, in the transaction that queues its entry), and the job is woken after the commit.
 */
export function subscribeLedger(events: EventSubscriber, jobs: JobWaker, service: LedgerService): void {
  events.durable('settlement.closed', 'ledger', (tx, payload) => service.onSettlementClosed(tx, payload));
  events.durable('statement.issued', 'ledger', (tx, payload) => service.onStatementIssued(tx, payload));
  events.durable('flex.message.stored', 'ledger', (tx, payload) => service.onFlexMessageStored(tx, payload));
  events.durable('command.issued', 'ledger', (tx, payload) => service.onCommandIssued(tx, payload));
  events.durable('operator-import.accepted', 'ledger', (tx, payload) => service.onOperatorImportAccepted(tx, payload));
  events.durable('market.cleared', 'ledger', (tx, payload) => service.onMarketCleared(tx, payload));
  events.durable('market.posted', 'ledger', (tx, payload) => service.onMarketPosted(tx, payload));
  events.durable('market.settled', 'ledger', (tx, payload) => service.onMarketSettled(tx, payload));
  events.durable('consent.changed', 'ledger', (tx, payload) => service.onConsentChanged(tx, payload));
  events.durable('change.recorded', 'ledger', (tx, payload) => service.onChangeRecorded(tx, payload));
  for (const name of ['settlement.closed', 'statement.issued', 'flex.message.stored', 'command.issued', 'operator-import.accepted', 'market.cleared', 'market.posted', 'market.settled', 'consent.changed', 'change.recorded'] as const) {
    events.afterCommit(name, () => jobs.wake(LEDGER_JOB));
  }
}
