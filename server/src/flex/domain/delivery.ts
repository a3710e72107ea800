/**
 * How the outbox treats the answer to one POST of a UFTP message: delivered, failed for good, or
 * tried again after a delay that doubles with each attempt — for at least an hour after the
 * message was queued (the specification asks the sender to retry; a counterpart down for a
 * maintenance window must not lose a FlexOffer).
 */

/** The first retry waits this long; each further one twice as long, at most `RETRY_MAX_MS`. */
export const RETRY_FIRST_MS = 30_000;
export const RETRY_MAX_MS = 10 * 60_000;
/** Temporary failures are tried again until at least this long after the message was queued. */
export const RETRY_WINDOW_MS = 60 * 60_000;

/** What one attempt ended with: an HTTP status, or no answer at all (refused, reset, timed out). */
export type AttemptResult = { readonly status: number } | { readonly error: string };

export type AttemptOutcome =
  | { readonly state: 'delivered' }
  | { readonly state: 'failed'; readonly error: string }
  | { readonly state: 'pending'; readonly nextAttemptMs: number; readonly error: string };

/**
 * 2xx: delivered. 5xx, 404 (the endpoint not yet deployed), 408 and 429, and no answer: temporary.
 * Every other status (the counterpart refused this message: 400, 401, 403, 413, a redirect we do
 * not follow): final. A temporary failure at or after `retryUntilMs` is final too.
 */
export function judgeAttempt(result: AttemptResult, attemptsBefore: number, nowMs: number, retryUntilMs: number): AttemptOutcome {
  if ('status' in result && result.status >= 200 && result.status < 300) return { state: 'delivered' };
  const error = 'status' in result ? `HTTP ${result.status}` : result.error;
  const temporary = !('status' in result) || result.status >= 500 || [404, 408, 429].includes(result.status);
  if (!temporary || nowMs >= retryUntilMs) return { state: 'failed', error };
  return { state: 'pending', nextAttemptMs: nowMs + retryDelayMs(attemptsBefore + 1), error };
}

/** The wait after the n-th failed attempt (n ≥ 1). */
export function retryDelayMs(failedAttempts: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(30, failedAttempts - 1));
}
