import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { unavailable } from '../../src/platform/store/postgres.js';
import { UnavailableError } from '../../src/kernel/errors.js';

describe('what a PostgreSQL failure becomes', () => {
  it('names a pool whose connections were all busy, with its size and its queue, as the database being busy', async () => {
    const pool = new pg.Pool({ max: 3 });
    try {
      const busy = unavailable(new Error('timeout exceeded when trying to connect'), pool);
      expect(busy).toBeInstanceOf(UnavailableError);
      expect((busy as Error).message).toMatch(/^the database is busy: all 3 connections of this process were in use for 10 s \(0 more waiting\); nothing was acknowledged/);
    } finally {
      await pool.end();
    }
  });

  it('calls a lost connection unavailable and leaves every other error as it is', () => {
    const lost = unavailable(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }));
    expect(lost).toBeInstanceOf(UnavailableError);
    expect((lost as Error).message).toMatch(/^the database is unavailable \(terminating connection/);
    const bug = Object.assign(new Error('column "x" does not exist'), { code: '42703' });
    expect(unavailable(bug)).toBe(bug);
    // The pool's words without a pool (a transaction's own client) are not a pool's queue.
    const timeout = new Error('timeout exceeded when trying to connect');
    expect(unavailable(timeout)).toBe(timeout);
  });
});
