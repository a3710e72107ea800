/**
 * Energy by source, the sharing settings, settlements and statements (server/src/sharing,
 * server/src/billing; README "Energy sharing" and "Settlements and statements").
 */

export type Resolution = '15m' | '1h' | '1d' | '1mo';
export type Quality = 'measured' | 'estimated' | 'missing' | 'partial';

export interface EnergyFigures {
  consumptionWh: number;
  selfConsumedWh: number;
  fromCommunityWh: number;
  fromGridWh: number;
  productionWh: number;
  toCommunityWh: number;
  toGridWh: number;
}

export interface EnergyBucket extends EnergyFigures {
  start: string;
  end: string;
  quality: Quality;
  /** The split was made while some member's data was missing; it is redone when the data arrives. */
  provisional: boolean;
}

export interface EnergyRates {
  selfSufficiency: number | null;
  selfConsumptionRate: number | null;
}

export interface MemberEnergy {
  memberId: string;
  communityId: string;
  timeZone: string;
  resolution: Resolution;
  series: EnergyBucket[];
  totals: EnergyFigures;
  savings: { currency: string; amount: string; co2AvoidedKg: string };
}

export interface CommunityEnergy {
  communityId: string;
  timeZone: string;
  resolution: Resolution;
  series: EnergyBucket[];
  totals: EnergyFigures & EnergyRates;
  /** Managers and admins only. */
  members?: { memberId: string; displayName: string; totals: EnergyFigures & EnergyRates }[];
}

export interface StatementSummary {
  id: string;
  memberId: string;
  displayName: string;
  total: string;
  currency: string;
  kind: 'statement' | 'correction';
  /** 0 for the statement, 1, 2, … for its corrections. */
  sequence: number;
  createdAt: string;
}

export interface Settlement {
  id: string;
  communityId: string;
  period: string;
  periodStart: string;
  periodEnd: string;
  state: 'draft' | 'closed';
  createdAt: string;
  /** When the statements were last computed (a draft run again, corrections issued). */
  computedAt: string;
  closedAt: string | null;
  statements: StatementSummary[];
  totals: { currency: string; amount: string; statements: number; corrections: number; fromCommunityWh: number; toCommunityWh: number };
}

export interface MemberStatement {
  id: string;
  settlementId: string;
  period: string;
  state: 'draft' | 'closed';
  kind: 'statement' | 'correction';
  sequence: number;
  total: string;
  currency: string;
  createdAt: string;
}

/** One version of a community's static key: exact decimal shares per member from `validFrom` on. */
export interface ShareVersion {
  validFrom: string;
  shares: { memberId: string; share: string }[];
}

export interface Co2Settings {
  /** Grams of CO2 per kWh of grid energy; null when not set (CO2 avoided is then 0). */
  gramsPerKWh: number | null;
  hourly: { hours: number; from: string | null; to: string | null };
}

export const statementDownload = (statementId: string, format: 'pdf' | 'csv') =>
  `/api/v1/statements/${encodeURIComponent(statementId)}/statement.${format}`;

export const memberEnergyUrl = (memberId: string, range: { from: string; to: string }, resolution: Resolution) =>
  `/api/v1/members/${memberId}/energy?${new URLSearchParams({ ...range, resolution })}`;

export const communityEnergyUrl = (communityId: string, range: { from: string; to: string }, resolution: Resolution) =>
  `/api/v1/communities/${communityId}/energy?${new URLSearchParams({ ...range, resolution })}`;

/** PUT /communities/{id}/allocation-coefficients */
export interface CoefficientUpload {
  periods: number;
  periodMinutes: number;
  from: string;
  to: string;
  coefficients: number;
  unmatched: string[];
}

/** GET /communities/{id}/allocation-coefficients */
export interface CoefficientCoverage {
  periods: number;
  from: string | null;
  to: string | null;
  periodMinutes: number[];
}
