import { createLocalClock, type LocalClock } from '../../kernel/calendar.js';
import { BadRequestError } from '../../kernel/errors.js';
import { DAY_MS, floorToQuarterHour, QUARTER_HOUR_MS } from '../../kernel/time.js';
import { requireInstant } from './scope.js';

/**
 * Retention: per community, how long each kind of data is kept, and the cut-off instants the
 * daily job deletes before. Billing records are kept at least as long as the community's
 * country requires (Art. 17(3)(b) GDPR: a legal obligation outweighs erasure), counted the way
 * those laws count: from the end of the calendar year the record was issued in.
 */

export const RETENTION_KINDS = [
  'raw-readings', 'intervals', 'forecasts', 'access-log', 'operational-logs', 'export-files', 'billing-records', 'ledger',
] as const;
export type RetentionKind = (typeof RETENTION_KINDS)[number];

export interface RetentionPolicy {
  /** Raw readings older than this are thinned to their 15-minute intervals (deleted once their quarter hour is computed). */
  readonly rawReadingsDays: number;
  readonly intervalsDays: number;
  readonly forecastsDays: number;
  /** Who read a member's data: long enough for a member who looks once a year to see every read. */
  readonly accessLogDays: number;
  /** Job runs, command deliveries, ingest errors. */
  readonly operationalLogsDays: number;
  /** Export ZIPs stay downloadable this long. */
  readonly exportFilesDays: number;
  /** Statements, settlements, wallet postings: at least the country's legal minimum. */
  readonly billingRecordsYears: number;
}

/** A country's minimum for billing records. Facts with their sources; not legal advice: an installation can set its own. */
export interface LegalMinimum {
  readonly country: string;
  readonly billingRecordsYears: number;
  /** Every preset counts from the end of the calendar year of issue (the financial year is taken to be the calendar year). */
  readonly countFrom: 'end-of-year';
  readonly source: string;
}

export const LEGAL_MINIMUMS: Readonly<Record<string, LegalMinimum>> = {
  AT: { country: 'AT', billingRecordsYears: 7, countFrom: 'end-of-year', source: '§ 132 (1) BAO; § 212 (1) UGB' },
  DE: { country: 'DE', billingRecordsYears: 8, countFrom: 'end-of-year', source: '§ 147 (3), (4) AO and § 257 (4) HGB as amended by the Viertes Bürokratieentlastungsgesetz (Buchungsbelege 8 years from 2025; 10 before); § 14b UStG' },
  FR: { country: 'FR', billingRecordsYears: 10, countFrom: 'end-of-year', source: 'Code de commerce art. L123-22 (10 years); tax: Livre des procédures fiscales art. L102 B (6 years)' },
  ES: { country: 'ES', billingRecordsYears: 6, countFrom: 'end-of-year', source: 'Código de Comercio art. 30 (6 years); tax: Ley General Tributaria art. 66 (4 years)' },
  IT: { country: 'IT', billingRecordsYears: 10, countFrom: 'end-of-year', source: 'Codice civile art. 2220; DPR 600/1973 art. 22' },
  NL: { country: 'NL', billingRecordsYears: 7, countFrom: 'end-of-year', source: 'Algemene wet inzake rijksbelastingen art. 52 (4); Burgerlijk Wetboek 2:10 (3)' },
  BE: { country: 'BE', billingRecordsYears: 10, countFrom: 'end-of-year', source: 'Code de droit économique art. III.88 (10 years since 2019); Code TVA art. 60 § 3 (10 years since 2023)' },
};

/** The preset for a country (ISO 3166 alpha-2), or a clear error naming the presets there are. */
export function legalMinimumFor(country: string): LegalMinimum {
  const preset = LEGAL_MINIMUMS[country.toUpperCase()];
  if (!preset) {
    throw new BadRequestError(`no legal retention preset for country "${country}" (presets: ${Object.keys(LEGAL_MINIMUMS).join(', ')}); configure one`, 'country');
  }
  return preset;
}

export function validateLegalMinimum(minimum: LegalMinimum): LegalMinimum {
  if (!/^[A-Z]{2}$/.test(minimum.country)) throw new BadRequestError('a legal minimum names its country (ISO 3166 alpha-2)', 'legal/country');
  if (!Number.isSafeInteger(minimum.billingRecordsYears) || minimum.billingRecordsYears < 0 || minimum.billingRecordsYears > 30) {
    throw new BadRequestError('the legal minimum for billing records is 0 to 30 whole years', 'legal/billingRecordsYears');
  }
  if (minimum.countFrom !== 'end-of-year') throw new BadRequestError('legal minimums count from the end of the year of issue', 'legal/countFrom');
  if (minimum.source.trim() === '') throw new BadRequestError('a legal minimum names its source', 'legal/source');
  return minimum;
}

/** How long a community keeps raw readings unless its managers set otherwise. */
export const DEFAULT_RAW_READINGS_DAYS = 90;

/** A sensible start for a community in `country`: billing records at the legal minimum, the rest short. */
export function defaultRetentionPolicy(legal: LegalMinimum): RetentionPolicy {
  return {
    rawReadingsDays: DEFAULT_RAW_READINGS_DAYS,
    intervalsDays: 3 * 366,
    forecastsDays: 90,
    accessLogDays: 2 * 366,
    operationalLogsDays: 90,
    exportFilesDays: 7,
    billingRecordsYears: legal.billingRecordsYears,
  };
}

const DAY_FIELDS = ['rawReadingsDays', 'intervalsDays', 'forecastsDays', 'accessLogDays', 'operationalLogsDays', 'exportFilesDays'] as const;
const MAX_DAYS = 100 * 366;
/** Settling last month needs its intervals (and a little slack for late readings and corrections). */
const MIN_INTERVALS_DAYS = 62;
const MIN_ACCESS_LOG_DAYS = 366;
const MAX_EXPORT_FILE_DAYS = 31;

/**
 * Checks a policy against the country's legal minimum and its own consistency; throws a
 * BadRequestError listing every problem at once (so a settings form can show them together).
 */
export function validateRetentionPolicy(policy: RetentionPolicy, legal: LegalMinimum): RetentionPolicy {
  validateLegalMinimum(legal);
  const problems: string[] = [];
  for (const field of DAY_FIELDS) {
    const days = policy[field];
    if (!Number.isSafeInteger(days) || days < 1 || days > MAX_DAYS) problems.push(`${field} must be a whole number of days from 1 to ${MAX_DAYS}, got ${days}`);
  }
  if (policy.intervalsDays < Math.max(MIN_INTERVALS_DAYS, policy.rawReadingsDays)) {
    problems.push(`intervalsDays must be at least ${MIN_INTERVALS_DAYS} and at least rawReadingsDays: intervals replace the raw readings they are thinned to`);
  }
  if (policy.accessLogDays < MIN_ACCESS_LOG_DAYS) problems.push(`accessLogDays must be at least ${MIN_ACCESS_LOG_DAYS}: members see a year of reads of their data`);
  if (policy.exportFilesDays > MAX_EXPORT_FILE_DAYS) problems.push(`exportFilesDays must be at most ${MAX_EXPORT_FILE_DAYS}: an export is a copy of everything about a member`);
  if (!Number.isSafeInteger(policy.billingRecordsYears) || policy.billingRecordsYears > 30) {
    problems.push(`billingRecordsYears must be a whole number of years up to 30, got ${policy.billingRecordsYears}`);
  } else if (policy.billingRecordsYears < legal.billingRecordsYears) {
    problems.push(`billingRecordsYears ${policy.billingRecordsYears} is below the legal minimum of ${legal.billingRecordsYears} years in ${legal.country} (${legal.source})`);
  }
  if (problems.length > 0) throw new BadRequestError(`retention policy refused: ${problems.join('; ')}`, 'retention');
  return policy;
}

const DAYS_OF: Record<Exclude<RetentionKind, 'billing-records' | 'ledger'>, (p: RetentionPolicy) => number> = {
  'raw-readings': (p) => p.rawReadingsDays,
  intervals: (p) => p.intervalsDays,
  forecasts: (p) => p.forecastsDays,
  'access-log': (p) => p.accessLogDays,
  'operational-logs': (p) => p.operationalLogsDays,
  'export-files': (p) => p.exportFilesDays,
};

// The daily job and the erasure planner ask for the same few zones over and over; a clock
// builds an Intl formatter, which costs far more than the arithmetic around it.
const clocks = new Map<string, LocalClock>();
function clockOf(timeZone: string): LocalClock {
  let clock = clocks.get(timeZone);
  if (!clock) {
    if (clocks.size >= 64) clocks.clear();
    clock = createLocalClock(timeZone);
    clocks.set(timeZone, clock);
  }
  return clock;
}

const localYear = (clock: LocalClock, utcMs: number): number => new Date(utcMs + clock.offsetMs(utcMs)).getUTCFullYear();
const localNewYear = (clock: LocalClock, year: number): number => clock.toUtc(Date.UTC(year, 0, 1));

/**
 * Per kind, the instant before which records are deleted (records stamped `< cutoff`), or null
 * for kept for good (the verifiable record holds no personal data). Day-based cut-offs are
 * floored to a quarter hour, so raw readings are thinned by whole quarter hours; billing
 * records go on 1 January local time once their years have passed. Refuses a policy below the
 * legal minimum.
 */
export type RetentionCutoffs = Readonly<Record<Exclude<RetentionKind, 'ledger'>, number> & { ledger: null }>;

export function retentionCutoffs(policy: RetentionPolicy, legal: LegalMinimum, nowMs: number, timeZone: string): RetentionCutoffs {
  validateRetentionPolicy(policy, legal);
  requireInstant(nowMs, 'now');
  const clock = clockOf(timeZone);
  const days = Object.fromEntries(
    Object.entries(DAYS_OF).map(([kind, of]) => [kind, floorToQuarterHour(nowMs - of(policy) * DAY_MS)]),
  ) as Record<keyof typeof DAYS_OF, number>;
  return {
    ...days,
    'billing-records': localNewYear(clock, localYear(clock, nowMs) - policy.billingRecordsYears),
    ledger: null,
  };
}

/**
 * The first instant at which a record of `kind` stamped `atMs` may be deleted (null: never).
 * The same rule as `retentionCutoffs`, seen from the record: it is deleted by the first daily
 * run at or after this instant. The erasure plan shows it to the member.
 */
export function keptUntil(kind: RetentionKind, atMs: number, policy: RetentionPolicy, timeZone: string): number | null {
  requireInstant(atMs, 'at');
  if (kind === 'ledger') return null;
  if (kind === 'billing-records') {
    const clock = clockOf(timeZone);
    return localNewYear(clock, localYear(clock, atMs) + policy.billingRecordsYears + 1);
  }
  // at < floorToQuarterHour(now − d) exactly when now − d reaches the quarter hour after the one holding `at`.
  return floorToQuarterHour(atMs) + QUARTER_HOUR_MS + DAYS_OF[kind](policy) * DAY_MS;
}

/** Whether a record stamped `atMs` is due for deletion under the cut-offs. */
export const isExpired = (cutoff: number | null, atMs: number): boolean => cutoff !== null && atMs < cutoff;
