/**
 * A smaller model with the same figures: sites planned as one where that changes nothing the plan
 * is asked about — their summed net import, the community's cost. flex/ prices a flexibility request
 * with two plans of the sites behind a congestion point; 200 households with a battery each are
 * 200 storage models with a binary per step, where one model of the same batteries summed says the
 * same. Works on scenario JSON as `assembleScenario` writes it (pure, no I/O).
 *
 * A site is merged only when merging is exact:
 * - its connection prices import and export alike (the community's internal price), the same
 *   series as every other merged site: its cost is then that price × its net import, and summing
 *   net imports first changes no cost;
 * - its connection limits can never bind (what its assets can draw or give at most stays within
 *   them): a summed limit would otherwise let one site use another's headroom;
 * - it holds only assets this knows (loads, producers, batteries, EVs, heat pumps, appliances).
 * Batteries are summed only when they are the same battery scaled (efficiencies, SoC bounds,
 * initial and terminal SoC, power per capacity, availability): then every schedule of the sum is
 * the sum of the batteries' schedules in proportion to capacity, so nothing is offered that they
 * cannot do. Loads and production are summed; EVs, heat pumps and appliances keep their own models.
 */

type Json = Record<string, unknown>;

export const MERGED_SITE_ID = 'merged';

export interface MergedSites {
  readonly scenario: Json;
  /** The ids of the sites now planned as MERGED_SITE_ID (empty: the scenario is unchanged). */
  readonly merged: readonly string[];
}

const SUMMED_TYPES = new Set(['load', 'producer', 'storage']);
const KEPT_TYPES = new Set(['ev', 'heat-pump', 'appliance']);
const GRID_FIELDS = new Set(['importPrice', 'exportPrice', 'importLimitW', 'exportLimitW']);

const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
/** A series field: one value for every step, or one per step. */
const numbers = (value: unknown): number[] => (typeof value === 'number' ? [value] : Array.isArray(value) ? value.filter((v): v is number => typeof v === 'number') : []);
const num = (value: unknown, fallback = 0): number => (typeof value === 'number' ? value : fallback);
const peak = (value: unknown): number => Math.max(0, ...numbers(value));

/** The most a site's assets can draw (+) and give (−) at any step, W. */
function reach(assets: readonly Json[]): { drawW: number; giveW: number } {
  let drawW = 0;
  let giveW = 0;
  for (const a of assets) {
    if (a.type === 'load') drawW += peak(a.powerW);
    else if (a.type === 'producer') giveW += peak(a.forecastW);
    else if (a.type === 'storage') {
      drawW += num(a.maxChargeW);
      giveW += num(a.maxDischargeW);
    } else if (a.type === 'ev') drawW += num(a.maxPowerW);
    else if (a.type === 'heat-pump') drawW += num(a.maxElectricW);
    else if (a.type === 'appliance') drawW += peak(a.profileW);
  }
  return { drawW, giveW };
}

/** The site's price series when it may be merged (same price both ways, limits out of reach), else undefined. */
function mergeablePrice(site: Json): string | undefined {
  const grid = isRecord(site.grid) ? site.grid : {};
  const assets = Array.isArray(site.assets) ? site.assets.filter(isRecord) : [];
  if (Object.keys(grid).some((key) => !GRID_FIELDS.has(key))) return undefined;
  if (!assets.every((a) => typeof a.type === 'string' && (SUMMED_TYPES.has(a.type) || KEPT_TYPES.has(a.type)))) return undefined;
  const importPrice = JSON.stringify(grid.importPrice ?? 0);
  if (importPrice !== JSON.stringify(grid.exportPrice ?? 0)) return undefined;
  const { drawW, giveW } = reach(assets);
  const within = (limit: unknown, needW: number) => limit === undefined || (typeof limit === 'number' && needW <= limit);
  if (!within(grid.importLimitW, drawW) || !within(grid.exportLimitW, giveW)) return undefined;
  return importPrice;
}

/** What makes two batteries the same battery scaled. */
function batteryShape(b: Json): string {
  const capacity = num(b.capacityWh);
  return JSON.stringify([
    b.chargeEfficiency ?? null, b.dischargeEfficiency ?? null, b.socMin ?? null, b.socMax ?? null, b.initialSoc ?? null, b.terminalSoc ?? null,
    num(b.maxChargeW) / capacity, num(b.maxDischargeW) / capacity, b.availability ?? null,
  ]);
}

const sumSeries = (series: readonly number[][], steps: number): number[] =>
  Array.from({ length: steps }, (_, t) => series.reduce((sum, s) => sum + (s.length === 1 ? s[0]! : s[t] ?? 0), 0));

/**
 * The scenario with `siteIds` (those that qualify, see above; at least two) planned as one site
 * MERGED_SITE_ID; the others as they were.
 */
export function mergeSites(scenario: Json, siteIds: readonly string[]): MergedSites {
  const steps = num(scenario.steps);
  const sites = Array.isArray(scenario.sites) ? scenario.sites.filter(isRecord) : [];
  const wanted = new Set(siteIds);
  const byPrice = new Map<string, Json[]>();
  for (const site of sites) {
    if (typeof site.id !== 'string' || !wanted.has(site.id)) continue;
    const price = mergeablePrice(site);
    if (price !== undefined) byPrice.set(price, [...(byPrice.get(price) ?? []), site]);
  }
  // One price group is merged: the largest (a congestion point's households share the community's price).
  const group = [...byPrice.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  if (group.length < 2) return { scenario, merged: [] };
  const assets = group.flatMap((site) => (site.assets as unknown[]).filter(isRecord).map((asset) => ({ site: site.id as string, asset })));
  const merged: Json[] = [];
  const loads = assets.filter(({ asset }) => asset.type === 'load').map(({ asset }) => numbers(asset.powerW));
  if (loads.length > 0) merged.push({ type: 'load', id: 'load', powerW: sumSeries(loads, steps) });
  for (const curtailable of [false, true]) {
    const producers = assets.filter(({ asset }) => asset.type === 'producer' && (asset.curtailable === true) === curtailable);
    if (producers.length > 0) {
      merged.push({ type: 'producer', id: curtailable ? 'pv-curtailable' : 'pv', forecastW: sumSeries(producers.map(({ asset }) => numbers(asset.forecastW)), steps), curtailable, source: 'pv' });
    }
  }
  const shapes = new Map<string, Json[]>();
  for (const { asset } of assets.filter(({ asset }) => asset.type === 'storage')) shapes.set(batteryShape(asset), [...(shapes.get(batteryShape(asset)) ?? []), asset]);
  [...shapes.values()].forEach((batteries, k) => {
    const total = (field: string) => batteries.reduce((sum, b) => sum + num(b[field]), 0);
    merged.push({ ...batteries[0], id: `battery-${k + 1}`, capacityWh: total('capacityWh'), maxChargeW: total('maxChargeW'), maxDischargeW: total('maxDischargeW') });
  });
  for (const { site, asset } of assets.filter(({ asset }) => KEPT_TYPES.has(asset.type as string))) merged.push({ ...asset, id: `${site}-${String(asset.id)}` });
  const first = group[0]!;
  const grid = isRecord(first.grid) ? first.grid : {};
  const mergedSite: Json = {
    id: MERGED_SITE_ID, assets: merged,
    grid: { ...(grid.importPrice === undefined ? {} : { importPrice: grid.importPrice }), ...(grid.exportPrice === undefined ? {} : { exportPrice: grid.exportPrice }) },
  };
  const ids = new Set(group.map((site) => site.id as string));
  return { scenario: { ...scenario, sites: [...sites.filter((site) => !ids.has(site.id as string)), mergedSite] }, merged: [...ids] };
}
