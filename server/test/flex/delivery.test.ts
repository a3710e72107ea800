import { describe, expect, it } from 'vitest';
import { judgeAttempt, retryDelayMs, RETRY_FIRST_MS, RETRY_MAX_MS, RETRY_WINDOW_MS } from '../../src/flex/index.js';

describe('outbox attempts', () => {
  const queuedAt = 1_000_000;
  const until = queuedAt + RETRY_WINDOW_MS;

  it('delivers on 2xx', () => {
    expect(judgeAttempt({ status: 200 }, 0, queuedAt, until)).toEqual({ state: 'delivered' });
    expect(judgeAttempt({ status: 204 }, 3, queuedAt, until)).toEqual({ state: 'delivered' });
  });

  it('retries 5xx, 404, 408, 429 and no answer, with doubling delays up to the cap', () => {
    for (const result of [{ status: 500 }, { status: 503 }, { status: 404 }, { status: 408 }, { status: 429 }, { error: 'TimeoutError: aborted' }]) {
      expect(judgeAttempt(result, 0, queuedAt, until)).toMatchObject({ state: 'pending', nextAttemptMs: queuedAt + RETRY_FIRST_MS });
    }
    expect(judgeAttempt({ status: 502 }, 2, queuedAt, until)).toMatchObject({ state: 'pending', nextAttemptMs: queuedAt + 4 * RETRY_FIRST_MS, error: 'HTTP 502' });
    expect([1, 2, 3, 4, 5, 6, 100].map(retryDelayMs)).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, RETRY_MAX_MS, RETRY_MAX_MS]);
  });

  it('ends at once on other 4xx and redirects, and on a temporary failure once the hour is over', () => {
    for (const status of [400, 401, 403, 413, 301, 302]) expect(judgeAttempt({ status }, 0, queuedAt, until)).toEqual({ state: 'failed', error: `HTTP ${status}` });
    expect(judgeAttempt({ status: 503 }, 9, until - 1, until).state).toBe('pending');
    expect(judgeAttempt({ status: 503 }, 9, until, until)).toEqual({ state: 'failed', error: 'HTTP 503' });
  });
});
