import { describe, expect, it } from 'vitest';
import { mergeSites, MERGED_SITE_ID } from '../../src/optimise/domain/merge-sites.js';
import { hour, solveScenario, type Solved } from './support.js';

/**
 * Sites merged for flex/'s validate step: the merged plan must give the same summed net import and
 * the same cost as planning every site, and sites whose merging would change a figure stay apart.
 * A street of four homes at the community's internal price (same both ways), the community's
 * connection priced as a tariff with dear evening hours; two homes have the same battery at two
 * sizes, one an EV; a flexibility bound asks the street for at least 3 kW at step 2, when the batteries would rather give. Plans are whole Wh
 * per site, so a sum of rounded sites and one rounded sum differ by a Wh or so per site.
 */
const STEPS = 4;
const tariff = { importPrice: [0.1, 0.1, 0.4, 0.1], exportPrice: 0.05 };
const internal = { importPrice: 0.12, exportPrice: 0.12 };
const battery = (id: string, capacityWh: number) => ({
  type: 'storage', id, capacityWh, maxChargeW: capacityWh / 2, maxDischargeW: capacityWh / 2, chargeEfficiency: 0.95, dischargeEfficiency: 0.95, initialSoc: 0.5, socMin: 0.1,
});
const home = (id: string, assets: Record<string, unknown>[], grid: Record<string, unknown> = {}) => ({ id, member: `m-${id}`, grid: { ...internal, ...grid }, assets });
const street = (sites: Record<string, unknown>[]) => ({ name: 'street', start: hour(0), steps: STEPS, stepMinutes: 60, community: { grid: tariff }, sites });
const homes = [
  home('h1', [{ type: 'load', id: 'base', powerW: [800, 900, 1500, 700] }, battery('bat', 10_000)]),
  home('h2', [{ type: 'load', id: 'base', powerW: [500, 600, 1200, 400] }, { type: 'producer', id: 'pv', forecastW: [0, 1500, 300, 0] }, battery('bat', 5_000)]),
  home('h3', [{ type: 'load', id: 'base', powerW: 600 }, {
    type: 'ev', id: 'car', capacityWh: 40_000, maxPowerW: 7_000, efficiency: 0.9,
    sessions: [{ arrival: hour(0), departure: hour(4), socAtConnectionWh: 10_000, energyNeededWh: 6_000 }],
  }]),
  home('h4', [{ type: 'load', id: 'base', powerW: 300 }]),
];
const ids = homes.map((h) => h.id);
const bound = { steps: [{ step: 2, minW: 3000, maxW: 4000 }], shortfallPerKwh: 1000 };
const netImportW = (s: Solved, siteIds: readonly string[]) =>
  Array.from({ length: STEPS }, (_, t) => s.plan.sites.filter((site) => site.siteId !== null && siteIds.includes(site.siteId)).reduce((sum, site) => sum + site.importWh[t]! - site.exportWh[t]!, 0));

describe('merging sites for a flexibility re-plan', () => {
  it('plans the street as one site with the same net import and cost, with and without a flexibility bound', async () => {
    const scenario = street(homes);
    const merged = mergeSites(scenario, ids);
    expect(merged.merged).toEqual(ids);
    const sites = merged.scenario.sites as { id: string; assets: { id: string; type: string; capacityWh?: number }[] }[];
    expect(sites.map((s) => s.id)).toEqual([MERGED_SITE_ID]);
    // The two batteries are the same battery at two sizes: one of 15 kWh; the EV keeps its own model.
    expect(sites[0]!.assets.filter((a) => a.type === 'storage').map((a) => a.capacityWh)).toEqual([15_000]);
    expect(sites[0]!.assets.filter((a) => a.type === 'ev').map((a) => a.id)).toEqual(['h3-car']);

    for (const targets of [undefined, bound]) {
      const full = await solveScenario(scenario, targets ? { exchangeTargets: { siteIds: ids, ...targets } } : {});
      const one = await solveScenario(merged.scenario, targets ? { exchangeTargets: { siteIds: [MERGED_SITE_ID], ...targets } } : {});
      // Each site's schedule is whole Wh: the sum of four rounded sites and one rounded sum differ by at most 4 Wh.
      const fullW = netImportW(full, ids);
      netImportW(one, [MERGED_SITE_ID]).forEach((wh, t) => expect(Math.abs(wh - fullW[t]!)).toBeLessThanOrEqual(ids.length));
      expect(Number(one.plan.totals.costNano - full.plan.totals.costNano) / 1e9).toBeCloseTo(0, 2);
    }
    // The bound moved the plan (else the comparison above proves little): 3 kW at step 2 instead of none.
    const bounded = await solveScenario(merged.scenario, { exchangeTargets: { siteIds: [MERGED_SITE_ID], ...bound } });
    expect(netImportW(bounded, [MERGED_SITE_ID])[2]).toBe(3000);
    expect(netImportW(await solveScenario(merged.scenario), [MERGED_SITE_ID])[2]).toBe(0);
  });

  it('leaves apart a site whose limit could bind, one priced differently each way or at another price, and batteries of another shape', () => {
    const tight = home('tight', [{ type: 'load', id: 'base', powerW: 500 }, battery('bat', 10_000)], { importLimitW: 4_000 });
    const asymmetric = home('asym', [battery('bat', 10_000)], { exportPrice: 0.05 });
    const dearer = home('dear', [battery('bat', 10_000)], { importPrice: 0.2, exportPrice: 0.2 });
    const roomy = home('roomy', [battery('bat', 10_000)], { importLimitW: 5_000, exportLimitW: 5_000 });
    const faster = home('fast', [{ ...battery('bat', 10_000), maxChargeW: 8_000 }]);
    const unknown = home('odd', [{ type: 'something', id: 'x' }]);
    const scenario = street([...homes, tight, asymmetric, dearer, roomy, faster, unknown]);
    const merged = mergeSites(scenario, [...ids, 'tight', 'asym', 'dear', 'roomy', 'fast', 'odd']);
    expect(merged.merged).toEqual([...ids, 'roomy', 'fast']);
    const sites = merged.scenario.sites as { id: string; assets: { type: string; capacityWh?: number }[] }[];
    expect(sites.map((s) => s.id)).toEqual(['tight', 'asym', 'dear', 'odd', MERGED_SITE_ID]);
    expect(sites.at(-1)!.assets.filter((a) => a.type === 'storage').map((a) => a.capacityWh)).toEqual([25_000, 10_000]);
  });

  it('changes nothing when fewer than two sites qualify', () => {
    const scenario = street(homes);
    expect(mergeSites(scenario, ['h1'])).toEqual({ scenario, merged: [] });
    expect(mergeSites(scenario, [])).toEqual({ scenario, merged: [] });
  });
});
