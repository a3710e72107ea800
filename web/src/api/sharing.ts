/**
 * Energy by source and settlement: the contract in SHARING-API.md (issue 5). Only the pages
 * that read these call them; until a server has them they answer "no route" (see isMissingRoute).
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
  totals: EnergyFigures & { selfSufficiency: number | null; selfConsumptionRate: number | null };
  members?: { memberId: string; displayName: string; totals: EnergyFigures }[];
}

export interface StatementSummary {
  id: string;
  memberId: string;
  displayName: string;
  total: string;
  currency: string;
  kind: 'statement' | 'correction';
}

export interface Settlement {
  id: string;
  communityId: string;
  period: string;
  periodStart: string;
  periodEnd: string;
  state: 'draft' | 'closed';
  createdAt: string;
  closedAt: string | null;
  statements?: StatementSummary[];
}

export interface MemberStatement {
  id: string;
  settlementId: string;
  period: string;
  state: 'draft' | 'closed';
  kind: 'statement' | 'correction';
  total: string;
  currency: string;
  createdAt: string;
}

export const statementDownload = (statementId: string, format: 'pdf' | 'csv') =>
  `/api/v1/statements/${encodeURIComponent(statementId)}/statement.${format}`;

export const memberEnergyUrl = (memberId: string, range: { from: string; to: string }, resolution: Resolution) =>
  `/api/v1/members/${memberId}/energy?${new URLSearchParams({ ...range, resolution })}`;

export const communityEnergyUrl = (communityId: string, range: { from: string; to: string }, resolution: Resolution) =>
  `/api/v1/communities/${communityId}/energy?${new URLSearchParams({ ...range, resolution })}`;
