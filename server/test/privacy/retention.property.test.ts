/**
 * Retention: cut-offs per kind of data, the legal minimums for billing records, and a year of
 * daily runs simulated over random policies (fast-check): nothing younger than its retention
 * is ever selected for deletion, and everything is deleted by the first run after its time.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  defaultRetentionPolicy, isExpired, keptUntil, LEGAL_MINIMUMS, legalMinimumFor, RETENTION_KINDS, retentionCutoffs, validateRetentionPolicy,
  type RetentionKind, type RetentionPolicy,
} from '../../src/privacy/domain/index.js';
import { DAY, HOUR } from './support.js';

const AT = legalMinimumFor('AT');

describe('legal minimums and policies', () => {
  it('has a sourced preset for each country Gridshare has sharing presets for, and more', () => {
    expect(Object.keys(LEGAL_MINIMUMS).sort()).toEqual(['AT', 'BE', 'DE', 'ES', 'FR', 'IT', 'NL']);
    expect(Object.fromEntries(Object.values(LEGAL_MINIMUMS).map((m) => [m.country, m.billingRecordsYears]))).toEqual({ AT: 7, DE: 8, FR: 10, ES: 6, IT: 10, NL: 7, BE: 10 });
    for (const minimum of Object.values(LEGAL_MINIMUMS)) expect(minimum.source.length).toBeGreaterThan(10);
    expect(legalMinimumFor('de').country).toBe('DE');
    expect(() => legalMinimumFor('XX')).toThrow(/no legal retention preset for country "XX" \(presets: AT, DE/);
  });

  it('refuses a policy below the legal minimum, naming the law', () => {
    const policy = { ...defaultRetentionPolicy(legalMinimumFor('DE')), billingRecordsYears: 7 };
    expect(() => validateRetentionPolicy(policy, legalMinimumFor('DE'))).toThrow(/billingRecordsYears 7 is below the legal minimum of 8 years in DE \(§ 147/);
    expect(() => retentionCutoffs(policy, legalMinimumFor('DE'), Date.UTC(2026, 0, 1), 'Europe/Berlin')).toThrow(/legal minimum/);
    expect(validateRetentionPolicy(policy, AT)).toBe(policy);
  });

  it('lists every problem of a policy at once', () => {
    const bad: RetentionPolicy = { rawReadingsDays: 400, intervalsDays: 100, forecastsDays: Number.NaN, accessLogDays: 30, operationalLogsDays: 0, exportFilesDays: 90, billingRecordsYears: 3 };
    let message = '';
    try {
      validateRetentionPolicy(bad, AT);
    } catch (error) {
      message = (error as Error).message;
    }
    for (const part of ['forecastsDays must be', 'operationalLogsDays must be', 'intervalsDays must be at least', 'accessLogDays must be at least 366', 'exportFilesDays must be at most 31', 'below the legal minimum of 7 years in AT']) {
      expect(message).toContain(part);
    }
  });

  it('cuts billing records on 1 January, local time, once their years have passed', () => {
    const now = Date.UTC(2026, 5, 15, 12);
    const cutoffs = retentionCutoffs(defaultRetentionPolicy(AT), AT, now, 'Europe/Vienna');
    // 2019-01-01T00:00 in Vienna: records of 2018 (7 years after its end) go, records of 2019 stay.
    expect(cutoffs['billing-records']).toBe(Date.UTC(2018, 11, 31, 23));
    expect(isExpired(cutoffs['billing-records'], Date.UTC(2018, 11, 31, 22, 59))).toBe(true);
    expect(isExpired(cutoffs['billing-records'], Date.UTC(2018, 11, 31, 23))).toBe(false);
    expect(cutoffs.ledger).toBeNull();
    expect(cutoffs['raw-readings']).toBe(now - 90 * DAY);
    expect(keptUntil('billing-records', Date.UTC(2018, 11, 31, 22, 59), defaultRetentionPolicy(AT), 'Europe/Vienna')).toBe(Date.UTC(2025, 11, 31, 23));
  });

  it('thins raw readings by whole quarter hours', () => {
    const now = Date.UTC(2026, 5, 15, 12, 7, 30);
    const cutoffs = retentionCutoffs(defaultRetentionPolicy(AT), AT, now, 'UTC');
    expect(cutoffs['raw-readings'] % (15 * 60_000)).toBe(0);
    expect(cutoffs['raw-readings']).toBe(Date.UTC(2026, 2, 17, 12));
  });
});

const yearFormats = new Map<string, Intl.DateTimeFormat>();
/** The local year by Intl directly, independent of the code under test. */
function localYear(ms: number, timeZone: string): number {
  let format = yearFormats.get(timeZone);
  if (!format) yearFormats.set(timeZone, (format = new Intl.DateTimeFormat('en', { timeZone, year: 'numeric' })));
  return Number(format.format(ms));
}

/** A plain check: `expect` is too slow for the million checks of the simulation. */
function check(condition: boolean, what: () => string): void {
  if (!condition) throw new Error(what());
}

const DAYS_OF: Record<Exclude<RetentionKind, 'billing-records' | 'ledger'>, keyof RetentionPolicy> = {
  'raw-readings': 'rawReadingsDays', intervals: 'intervalsDays', forecasts: 'forecastsDays',
  'access-log': 'accessLogDays', 'operational-logs': 'operationalLogsDays', 'export-files': 'exportFilesDays',
};

const policies = fc.record({
  country: fc.constantFrom(...Object.keys(LEGAL_MINIMUMS)),
  raw: fc.integer({ min: 1, max: 200 }),
  intervalsExtra: fc.integer({ min: 0, max: 1500 }),
  forecasts: fc.integer({ min: 1, max: 400 }),
  accessLog: fc.integer({ min: 366, max: 1500 }),
  operational: fc.integer({ min: 1, max: 400 }),
  exports: fc.integer({ min: 1, max: 31 }),
  extraYears: fc.integer({ min: 0, max: 3 }),
  zone: fc.constantFrom('Europe/Vienna', 'Europe/Madrid', 'Europe/Lisbon', 'UTC', 'America/New_York'),
  runHour: fc.integer({ min: 0, max: 23 }),
  seed: fc.integer(),
});

describe('a simulated year of daily retention runs', () => {
  it('property: nothing younger than its retention is selected, everything older is gone after the next run', () => {
    fc.assert(fc.property(policies, (c) => {
      const legal = LEGAL_MINIMUMS[c.country]!;
      const policy: RetentionPolicy = {
        rawReadingsDays: c.raw, intervalsDays: Math.max(62, c.raw) + c.intervalsExtra, forecastsDays: c.forecasts,
        accessLogDays: c.accessLog, operationalLogsDays: c.operational, exportFilesDays: c.exports,
        billingRecordsYears: legal.billingRecordsYears + c.extraYears,
      };
      // Records of every kind, from 14 years before the simulated year to its end (arriving as time goes on).
      const start = Date.UTC(2026, 0, 1) + c.runHour * HOUR;
      let state = c.seed >>> 0;
      const random = () => ((state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32);
      const records = RETENTION_KINDS.flatMap((kind) => Array.from({ length: 30 }, () => ({ kind, at: Math.floor(start - 14 * 366 * DAY + random() * 15 * 366 * DAY) })));
      const present = new Set(records);
      for (let day = 0; day < 365; day++) {
        const now = start + day * DAY;
        const cutoffs = retentionCutoffs(policy, legal, now, c.zone);
        for (const record of [...present]) {
          if (record.at > now) continue;
          const expired = isExpired(cutoffs[record.kind], record.at);
          const due = keptUntil(record.kind, record.at, policy, c.zone);
          const what = () => `${record.kind} of ${new Date(record.at).toISOString()} at ${new Date(now).toISOString()}`;
          // The record's own view agrees with the job's cut-off.
          check(expired === (due !== null && due <= now), () => `cut-off and keptUntil disagree: ${what()}`);
          if (!expired) continue;
          // Never younger than its retention:
          if (record.kind === 'billing-records') {
            check(localYear(record.at, c.zone) + policy.billingRecordsYears < localYear(now, c.zone), () => `billing record deleted early: ${what()}`);
          } else {
            check(record.kind !== 'ledger', () => 'a ledger entry was selected');
            check(now - record.at > policy[DAYS_OF[record.kind as keyof typeof DAYS_OF]] * DAY, () => `deleted early: ${what()}`);
          }
          present.delete(record);
        }
        // Nothing overdue survives a run (allowing the quarter hour a day-based cut-off is floored to).
        for (const record of present) {
          if (record.at > now || record.kind === 'ledger') continue;
          const what = () => `${record.kind} of ${new Date(record.at).toISOString()} kept at ${new Date(now).toISOString()}`;
          if (record.kind === 'billing-records') check(localYear(record.at, c.zone) + policy.billingRecordsYears >= localYear(now, c.zone), what);
          else check(now - record.at <= policy[DAYS_OF[record.kind as keyof typeof DAYS_OF]] * DAY + 15 * 60_000, what);
        }
      }
    }), { numRuns: 10 });
  });
});
