/**
 * The delivery log: one entry per email and recipient, from queued to sent or failed, with every
 * attempt's outcome. Pure transitions; phase 2 stores entries and a job re-sends those that are
 * due. A temporary failure (server down, timeout, 4xx) is retried with exponential backoff; a
 * permanent one (5xx: unknown mailbox, refused sender; an address that cannot be valid) is not.
 */
export type DeliveryState = 'queued' | 'sent' | 'retrying' | 'failed';

export interface DeliveryEntry {
  readonly id: string;
  readonly event: string;
  readonly recipient: string;
  readonly language: string;
  readonly subject: string;
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly queuedAtMs: number;
  readonly nextAttemptAtMs?: number;
  readonly sentAtMs?: number;
  /** The SMTP server's answer to the last attempt ("250 2.0.0 queued as …", "550 5.1.1 no such user"). */
  readonly lastResponse?: string;
  readonly messageId?: string;
}

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
}

/** Six attempts over about two and a half hours: 1, 4, 16, 60, 60 minutes apart. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, firstDelayMs: 60_000, maxDelayMs: 3_600_000 };

export type AttemptOutcome =
  | { readonly kind: 'sent'; readonly messageId: string; readonly response: string }
  | { readonly kind: 'temporary' | 'permanent'; readonly response: string };

export function queued(entry: Omit<DeliveryEntry, 'state' | 'attempts' | 'nextAttemptAtMs'>): DeliveryEntry {
  return { ...entry, state: 'queued', attempts: 0, nextAttemptAtMs: entry.queuedAtMs };
}

export function isDue(entry: DeliveryEntry, nowMs: number): boolean {
  return (entry.state === 'queued' || entry.state === 'retrying') && (entry.nextAttemptAtMs ?? 0) <= nowMs;
}

export function afterAttempt(entry: DeliveryEntry, outcome: AttemptOutcome, nowMs: number, policy: RetryPolicy = DEFAULT_RETRY): DeliveryEntry {
  if (!isDue(entry, nowMs)) throw new Error(`delivery ${entry.id} is ${entry.state}, not due for an attempt`);
  const attempts = entry.attempts + 1;
  const { nextAttemptAtMs: _, ...rest } = entry;
  if (outcome.kind === 'sent') return { ...rest, state: 'sent', attempts, sentAtMs: nowMs, messageId: outcome.messageId, lastResponse: outcome.response };
  if (outcome.kind === 'permanent' || attempts >= policy.maxAttempts) return { ...rest, state: 'failed', attempts, lastResponse: outcome.response };
  const delay = Math.min(policy.maxDelayMs, policy.firstDelayMs * 4 ** (attempts - 1));
  return { ...rest, state: 'retrying', attempts, nextAttemptAtMs: nowMs + delay, lastResponse: outcome.response };
}

/**
 * How an SMTP failure counts: a 5xx reply is permanent (RFC 5321 §4.2.1), so is an envelope
 * the client refuses to send; a 4xx reply, a refused or dropped connection, a timeout or a TLS
 * failure is temporary — the server may be back later.
 */
export function classifySmtpFailure(failure: { readonly code?: string; readonly responseCode?: number }): 'temporary' | 'permanent' {
  if (failure.responseCode !== undefined && failure.responseCode >= 500) return 'permanent';
  if (failure.responseCode !== undefined && failure.responseCode >= 400) return 'temporary';
  return failure.code === 'EENVELOPE' ? 'permanent' : 'temporary';
}
