import { describe, expect, it } from 'vitest';
import { afterAttempt, classifySmtpFailure, DEFAULT_RETRY, isDue, queued } from '../../src/notifications/domain/delivery.js';

const t0 = Date.parse('2026-11-03T12:00:00Z');
const entry = queued({ id: 'd1', event: 'statement-ready', recipient: 'anna@example.org', language: 'de', subject: 'Ihre Abrechnung', queuedAtMs: t0 });

describe('the delivery log', () => {
  it('retries temporary failures with growing delays and gives up after the last attempt', () => {
    let e = entry;
    const delays: number[] = [];
    let now = t0;
    while (e.state !== 'failed') {
      expect(isDue(e, now)).toBe(true);
      e = afterAttempt(e, { kind: 'temporary', response: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:2525' }, now);
      if (e.nextAttemptAtMs !== undefined) {
        delays.push(e.nextAttemptAtMs - now);
        expect(isDue(e, e.nextAttemptAtMs - 1)).toBe(false);
        now = e.nextAttemptAtMs;
      }
    }
    expect(delays).toEqual([60_000, 240_000, 960_000, 3_600_000, 3_600_000]);
    expect(e).toMatchObject({ state: 'failed', attempts: DEFAULT_RETRY.maxAttempts, lastResponse: expect.stringContaining('ECONNREFUSED') });
    expect(() => afterAttempt(e, { kind: 'sent', messageId: 'x', response: '250' }, now)).toThrow(/not due/);
  });

  it('stops at once on a permanent failure and records a success', () => {
    expect(afterAttempt(entry, { kind: 'permanent', response: '550 5.1.1 no such user' }, t0)).toMatchObject({ state: 'failed', attempts: 1 });
    const sent = afterAttempt(entry, { kind: 'sent', messageId: '<m1@gridshare>', response: '250 OK' }, t0 + 5);
    expect(sent).toMatchObject({ state: 'sent', attempts: 1, sentAtMs: t0 + 5, messageId: '<m1@gridshare>' });
    expect(sent).not.toHaveProperty('nextAttemptAtMs');
  });

  it('classifies SMTP failures as RFC 5321 does', () => {
    expect(classifySmtpFailure({ code: 'EENVELOPE', responseCode: 550 })).toBe('permanent');
    expect(classifySmtpFailure({ code: 'EENVELOPE' })).toBe('permanent');
    expect(classifySmtpFailure({ code: 'EENVELOPE', responseCode: 451 })).toBe('temporary');
    expect(classifySmtpFailure({ code: 'ESOCKET' })).toBe('temporary');
    expect(classifySmtpFailure({ code: 'ETIMEDOUT' })).toBe('temporary');
    expect(classifySmtpFailure({ code: 'EAUTH', responseCode: 535 })).toBe('permanent');
  });
});
