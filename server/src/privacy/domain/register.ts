import { BadRequestError } from '../../kernel/errors.js';
import type { PrivacyMessageKey } from './catalog.js';
import type { RetentionKind } from './retention.js';

/**
 * The community's processing register (GDPR Art. 30, and the privacy page every member reads):
 * what the community itself does with members' data, why, on which legal basis, which data,
 * how long it is kept — and what a manager may see for each purpose. Texts are catalog keys,
 * so the page is in the member's language.
 */

/** Letters of GDPR Art. 6(1): a consent, b contract, c legal obligation, f legitimate interests. */
export type LegalBasis = 'a' | 'b' | 'c' | 'f';

export const DATA_CATEGORIES = [
  'identity', 'contact', 'credentials', 'address', 'metering-point-ids', 'devices', 'readings', 'intervals',
  'energy-by-source', 'forecasts', 'schedules', 'statements', 'market', 'flexibility', 'consents', 'access-log',
  'ledger-commitments',
] as const;
export type DataCategory = (typeof DATA_CATEGORIES)[number];

/**
 * What a manager may see of a member's energy data for a purpose:
 * - `individual-intervals`: each member's 15-minute data (settlement: the community answers for
 *   every member's figures to the grid operator);
 * - `individual-intervals-on-dispute`: only the 15-minute data of members in an open dispute;
 * - `individual-documents`: per-member documents and totals (statements, trades), no 15-minute data;
 * - `aggregate`: sums over at least k members, nothing per member;
 * - `none`: managers see nothing of it (the member and, for security, the platform admin).
 */
export type ManagerAccess = 'individual-intervals' | 'individual-intervals-on-dispute' | 'individual-documents' | 'aggregate' | 'none';

/** How long: a retention kind of the community's policy, or as long as the membership lasts. */
export type RetentionRef = RetentionKind | 'while-member';

export const PROCESSING_PURPOSES = [
  'membership', 'metering', 'sharing', 'billing', 'settlement', 'disputes', 'forecasting', 'control',
  'flexibility', 'market', 'verifiable-record', 'security', 'consented-sharing', 'data-subject-rights',
] as const;
export type ProcessingPurpose = (typeof PROCESSING_PURPOSES)[number];

export interface ProcessingActivity {
  readonly purpose: ProcessingPurpose;
  readonly legalBases: readonly LegalBasis[];
  readonly categories: readonly DataCategory[];
  readonly retention: readonly RetentionRef[];
  readonly managerAccess: ManagerAccess;
  readonly titleKey: PrivacyMessageKey;
  readonly descriptionKey: PrivacyMessageKey;
}

const activity = (
  purpose: ProcessingPurpose,
  legalBases: readonly LegalBasis[],
  categories: readonly DataCategory[],
  retention: readonly RetentionRef[],
  managerAccess: ManagerAccess,
): ProcessingActivity => ({
  purpose, legalBases, categories, retention, managerAccess,
  titleKey: `privacy.purpose.${purpose}.title`,
  descriptionKey: `privacy.purpose.${purpose}.description`,
});

/** The register every Gridshare community starts with; phase 2 lets a manager add notes, not loosen the rules. */
export const PROCESSING_REGISTER: readonly ProcessingActivity[] = [
  activity('membership', ['b'], ['identity', 'contact', 'credentials'], ['while-member'], 'individual-documents'),
  activity('metering', ['b'], ['readings', 'devices', 'metering-point-ids', 'address'], ['raw-readings', 'intervals'], 'aggregate'),
  activity('sharing', ['b', 'c'], ['intervals', 'energy-by-source'], ['intervals'], 'aggregate'),
  activity('billing', ['b', 'c'], ['identity', 'address', 'statements', 'energy-by-source'], ['billing-records'], 'individual-documents'),
  activity('settlement', ['b', 'c'], ['intervals', 'metering-point-ids', 'energy-by-source'], ['intervals', 'billing-records'], 'individual-intervals'),
  activity('disputes', ['f'], ['intervals', 'readings', 'statements', 'market'], ['billing-records'], 'individual-intervals-on-dispute'),
  activity('forecasting', ['f'], ['intervals', 'forecasts'], ['forecasts'], 'aggregate'),
  activity('control', ['b'], ['devices', 'schedules', 'forecasts'], ['operational-logs'], 'aggregate'),
  activity('flexibility', ['b'], ['intervals', 'flexibility'], ['billing-records'], 'aggregate'),
  activity('market', ['b'], ['market'], ['billing-records'], 'individual-documents'),
  activity('verifiable-record', ['f'], ['ledger-commitments'], ['ledger'], 'none'),
  activity('security', ['f'], ['credentials', 'access-log'], ['access-log', 'operational-logs'], 'none'),
  activity('consented-sharing', ['a'], ['intervals', 'energy-by-source', 'consents'], ['access-log'], 'none'),
  activity('data-subject-rights', ['c'], ['identity', 'contact', 'intervals', 'statements', 'consents', 'access-log'], ['export-files'], 'none'),
];

export function processingActivity(purpose: ProcessingPurpose): ProcessingActivity {
  const found = PROCESSING_REGISTER.find((a) => a.purpose === purpose);
  if (!found) throw new BadRequestError(`unknown processing purpose "${purpose}" (known: ${PROCESSING_PURPOSES.join(', ')})`, 'purpose');
  return found;
}

/** What a manager gets when asking for one member's energy data for a purpose. */
export type ManagerView =
  | { readonly view: 'individual'; readonly purpose: ProcessingPurpose; readonly resolution: '15m' }
  | { readonly view: 'aggregate'; readonly purpose: ProcessingPurpose; readonly minimumMembers: number };

export interface ManagerViewRequest {
  readonly purpose: ProcessingPurpose;
  /** The member whose data is asked for. */
  readonly memberId: string;
  /** Members with a dispute open in the community now. */
  readonly openDisputes: ReadonlySet<string>;
  /** The community's k (see `validateMinimumAggregate`). */
  readonly minimumMembers: number;
}

/**
 * Role-based access for managers: individual 15-minute data only for settlement, and for
 * disputes only of the member in dispute; otherwise aggregates of at least k members. Every
 * `individual` answer is a read of personal data that the caller enters in the access log
 * with this purpose.
 */
export function managerView(request: ManagerViewRequest): ManagerView {
  const { managerAccess, purpose } = processingActivity(request.purpose);
  if (managerAccess === 'individual-intervals') return { view: 'individual', purpose, resolution: '15m' };
  if (managerAccess === 'individual-intervals-on-dispute' && request.openDisputes.has(request.memberId)) {
    return { view: 'individual', purpose, resolution: '15m' };
  }
  return { view: 'aggregate', purpose, minimumMembers: request.minimumMembers };
}

/** The default k: no aggregate of fewer than five members is shown. */
export const DEFAULT_MINIMUM_AGGREGATE = 5;
/**
 * Below three, an aggregate is no protection: each of two members learns the other's figure
 * by subtracting their own.
 */
export const LOWEST_MINIMUM_AGGREGATE = 3;

export function validateMinimumAggregate(k: number): number {
  if (!Number.isSafeInteger(k) || k < LOWEST_MINIMUM_AGGREGATE || k > 10_000) {
    throw new BadRequestError(`the minimum number of members in an aggregate is a whole number from ${LOWEST_MINIMUM_AGGREGATE} to 10000, got ${k}`, 'minimumAggregateMembers');
  }
  return k;
}

export interface Contribution {
  readonly memberId: string;
  readonly wh: number;
}

export type AggregateResult =
  | { readonly shown: true; readonly members: number; readonly totalWh: number }
  | { readonly shown: false; readonly members: number; readonly minimumMembers: number };

/**
 * Σ Wh over the contributions if they come from at least k distinct members, else withheld.
 * Members are counted, not rows: one member's four quarter hours are one contributor.
 */
export function aggregateOrWithhold(contributions: Iterable<Contribution>, minimumMembers: number): AggregateResult {
  const k = validateMinimumAggregate(minimumMembers);
  const members = new Set<string>();
  let totalWh = 0;
  for (const c of contributions) {
    if (!Number.isSafeInteger(c.wh)) throw new RangeError(`energy must be whole Wh, got ${c.wh} for ${c.memberId}`);
    members.add(c.memberId);
    totalWh += c.wh;
  }
  return members.size >= k ? { shown: true, members: members.size, totalWh } : { shown: false, members: members.size, minimumMembers: k };
}
