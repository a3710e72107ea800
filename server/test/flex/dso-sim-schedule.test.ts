import { describe, expect, it } from 'vitest';
import { requestExpiry } from '../../src/flex/dso-sim/simulator.js';

const HOUR = 3_600_000;
const tomorrow = Date.parse('2026-12-03T23:00:00Z'); // midnight in Vienna

describe('the DSO simulator\'s request schedule', () => {
  it('lets a request for tomorrow expire an hour before tomorrow when asked in time', () => {
    expect(requestExpiry(tomorrow - 10 * HOUR, tomorrow, HOUR)).toBe(tomorrow - HOUR);
  });

  it('gives a request asked within the last hour before tomorrow an hour from now, never a time already past', () => {
    const now = tomorrow - 43 * 60_000; // 23:17 in Vienna
    expect(requestExpiry(now, tomorrow, HOUR)).toBe(now + HOUR);
    expect(requestExpiry(now, tomorrow, HOUR)).toBeGreaterThan(now);
  });
});
