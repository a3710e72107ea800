import { id as readId, join, list, number, record, ScenarioError, text, type Fields } from './fields.js';
import { parseHorizon, type Horizon } from './horizon.js';
import { assetTypes, getAssetAdapter, parseConnection, type Asset, type Connection, type ObjectiveWeights } from './assets/index.js';
import type { SolveSettings } from './solve-report.js';

/**
 * A scenario: the community, its sites and their assets, forecasts and prices over a horizon,
 * and what to optimise. The schema is documented in ../README.md; every field is checked here
 * and an error names the field by its path.
 */
export interface Site {
  readonly id: string;
  /** The member the site belongs to (savings are explained per member); none for shared assets. */
  readonly member: string | undefined;
  readonly connection: Connection;
  readonly assets: readonly Asset[];
}

export interface Scenario {
  readonly name: string;
  readonly horizon: Horizon;
  readonly currency: string;
  readonly weights: ObjectiveWeights;
  /** The community's connection to the public grid and assets at the connection point (a community battery). */
  readonly community: { readonly connection: Connection; readonly assets: readonly Asset[] };
  readonly sites: readonly Site[];
  /** Solver settings the scenario asks for (the CLI's options override them). */
  readonly solver: Partial<SolveSettings>;
}

export const MAX_SITES = 5000;
export const MAX_ASSETS_PER_SITE = 50;

const OBJECTIVES: Record<string, Partial<ObjectiveWeights>> = {
  cost: { cost: 1 },
  co2: { co2PerKg: 1 },
  autarky: { importPerKwh: 1 },
  'self-consumption': { exportPerKwh: 1 },
  peak: { peakPerKw: 1 },
};

function parseObjective(value: unknown): ObjectiveWeights {
  const none: ObjectiveWeights = { cost: 0, co2PerKg: 0, importPerKwh: 0, exportPerKwh: 0, peakPerKw: 0 };
  if (value === undefined) return { ...none, cost: 1 };
  if (typeof value === 'string') {
    const preset = OBJECTIVES[value];
    if (!preset) throw new ScenarioError('objective', `must be one of ${Object.keys(OBJECTIVES).join(', ')} or an object of weights`);
    return { ...none, ...preset };
  }
  const fields = record(value, 'objective', ['cost', 'co2PerKg', 'importPerKwh', 'exportPerKwh', 'peakPerKw']);
  const weight = (key: string) => number(fields, key, 'objective', { min: 0, max: 1e6, default: 0 });
  const weights = { cost: weight('cost'), co2PerKg: weight('co2PerKg'), importPerKwh: weight('importPerKwh'), exportPerKwh: weight('exportPerKwh'), peakPerKw: weight('peakPerKw') };
  if (Object.values(weights).every((w) => w === 0)) throw new ScenarioError('objective', 'needs at least one weight above 0');
  return weights;
}

function parseSolver(value: unknown): Partial<SolveSettings> {
  if (value === undefined) return {};
  const fields = record(value, 'solver', ['timeLimitS', 'relativeGap', 'absoluteGap']);
  const out: { timeLimitS?: number; relativeGap?: number; absoluteGap?: number } = {};
  if (fields.timeLimitS !== undefined) out.timeLimitS = number(fields, 'timeLimitS', 'solver', { above: 0, max: 3600 });
  if (fields.relativeGap !== undefined) out.relativeGap = number(fields, 'relativeGap', 'solver', { min: 0, max: 1 });
  if (fields.absoluteGap !== undefined) out.absoluteGap = number(fields, 'absoluteGap', 'solver', { min: 0, max: 1e9 });
  return out;
}

function parseAssets(value: unknown, path: string, horizon: Horizon): Asset[] {
  const seen = new Map<string, string>();
  return list(value ?? [], path, { max: MAX_ASSETS_PER_SITE }).map((raw, i) => {
    const where = join(path, i);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ScenarioError(where, 'must be an object');
    const type = (raw as Fields).type;
    const adapter = typeof type === 'string' ? getAssetAdapter(type) : undefined;
    if (!adapter) throw new ScenarioError(join(where, 'type'), `must be one of ${assetTypes().join(', ')}`);
    const fields = record(raw, where, ['type', 'id', ...adapter.fields]);
    const assetId = readId(fields, 'id', where);
    const key = lpKey(assetId);
    if (key === 'grid') throw new ScenarioError(join(where, 'id'), '"grid" names the connection; choose another id');
    if (seen.has(key)) throw new ScenarioError(join(where, 'id'), `"${assetId}" is used by another asset of this site (${seen.get(key)})`);
    seen.set(key, where);
    return adapter.parse(fields, where, assetId, horizon);
  });
}

/** Ids become LP names, where "-" is not allowed: "house-1" and "house_1" are the same id. */
export const lpKey = (value: string): string => value.replaceAll('-', '_');

export function parseScenario(raw: unknown): Scenario {
  const fields = record(raw, '', ['name', 'start', 'steps', 'stepMinutes', 'timeZone', 'currency', 'objective', 'community', 'sites', 'solver']);
  const horizon = parseHorizon(fields);
  const currency = text(fields, 'currency', '', 'EUR');
  if (!/^[A-Z]{3}$/.test(currency)) throw new ScenarioError('currency', 'must be an ISO 4217 code like EUR');
  const weights = parseObjective(fields.objective);
  const communityFields = record(fields.community ?? {}, 'community', ['grid', 'assets']);
  const community = {
    connection: parseConnection(communityFields.grid, 'community.grid', horizon, 'community', weights),
    assets: parseAssets(communityFields.assets, 'community.assets', horizon),
  };
  const seen = new Map<string, number>();
  const sites = list(fields.sites, 'sites', { min: 1, max: MAX_SITES }).map((rawSite, i): Site => {
    const where = join('sites', i);
    const site = record(rawSite, where, ['id', 'member', 'grid', 'assets']);
    const siteId = readId(site, 'id', where);
    const key = lpKey(siteId);
    if (key === 'community') throw new ScenarioError(join(where, 'id'), '"community" names the community connection; choose another id');
    if (seen.has(key)) throw new ScenarioError(join(where, 'id'), `"${siteId}" is already the id of sites[${seen.get(key)}]`);
    seen.set(key, i);
    return {
      id: siteId,
      member: site.member === undefined ? undefined : text(site, 'member', where),
      connection: parseConnection(site.grid, join(where, 'grid'), horizon, 'site', weights),
      assets: parseAssets(site.assets, join(where, 'assets'), horizon),
    };
  });
  return {
    name: text(fields, 'name', '', 'scenario'),
    horizon,
    currency,
    weights,
    community,
    sites,
    solver: parseSolver(fields.solver),
  };
}
