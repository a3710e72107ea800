import { describe, expect, it } from 'vitest';
import { mandateEvidenceEnds, REFUND_CLAIM_MONTHS } from '../../src/billing/domain/mandate-evidence.js';

describe('mandateEvidenceEnds: how long an erased member\'s mandate is kept as evidence', () => {
  it('is deleted at once when no collection could have been made under it', () => {
    expect(mandateEvidenceEnds(null, '2026-06-15')).toBeNull();
  });

  it('is kept until the day after the 13 months of the unauthorised-collection refund right (the 8 weeks of an authorised one lie inside)', () => {
    expect(REFUND_CLAIM_MONTHS).toBe(13);
    expect(mandateEvidenceEnds('2026-03-10', '2026-03-01')).toBe('2027-04-11');
    // A due date already passed: a file made before the erasure could still collect on the day of the erasure.
    expect(mandateEvidenceEnds('2026-01-20', '2026-06-15')).toBe('2027-07-16');
  });

  it('takes the month\'s last day where the date does not exist', () => {
    expect(mandateEvidenceEnds('2026-01-31', '2026-01-02')).toBe('2027-03-01');
    expect(mandateEvidenceEnds('2026-12-31', '2026-01-02')).toBe('2028-02-01');
    expect(mandateEvidenceEnds('2027-01-31', '2027-01-02')).toBe('2028-03-01');
  });

  it('refuses what is no date', () => {
    expect(() => mandateEvidenceEnds('31.01.2026', '2026-01-02')).toThrow(/not a date/);
  });
});
