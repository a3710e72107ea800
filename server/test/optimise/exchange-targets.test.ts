import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../src/kernel/errors.js';
import { buildModel } from '../../src/optimise/domain/build.js';
import { parseScenario } from '../../src/optimise/domain/scenario.js';
import { hour, solveScenario } from './support.js';

/**
 * Exchange targets (what flex/ asks when a grid operator requests flexibility): soft bounds on
 * some sites' summed net import. Two homes with a load; one has a battery that, without targets,
 * has no reason to move (flat prices, lossless): the targets alone decide when it discharges.
 */
const street = {
  name: 'street', start: hour(0), steps: 4, stepMinutes: 60,
  sites: [
    {
      id: 'a', member: 'alice', grid: { importPrice: 0.2, exportPrice: 0.05 },
      assets: [
        { type: 'load', id: 'base', powerW: 1000 },
        { type: 'storage', id: 'bat', capacityWh: 4000, maxChargeW: 1500, maxDischargeW: 1500, chargeEfficiency: 1, dischargeEfficiency: 1, initialSoc: 0.5 },
      ],
    },
    { id: 'b', member: 'bob', grid: { importPrice: 0.2 }, assets: [{ type: 'load', id: 'base', powerW: 800 }] },
  ],
};
const netImportW = (s: Awaited<ReturnType<typeof solveScenario>>, ids: string[]) =>
  [0, 1, 2, 3].map((t) => s.plan.sites.filter((site) => site.siteId !== null && ids.includes(site.siteId)).reduce((sum, site) => sum + site.importWh[t]! - site.exportWh[t]!, 0));

describe('exchange targets', () => {
  it('moves the plan to meet bounds on the named sites\' net import, the shortfall priced only in the objective', async () => {
    const free = await solveScenario(street);
    // Without targets the battery may move or not (flat prices): the street takes 1800 W on average.
    expect(netImportW(free, ['a', 'b']).reduce((a, b) => a + b, 0)).toBe(4 * 1800);

    // At most 800 W at step 2: alice's battery gives 1000 W then, and takes it back at another step.
    const capped = await solveScenario(street, { exchangeTargets: { siteIds: ['a', 'b'], steps: [{ step: 2, minW: 0, maxW: 800 }], shortfallPerKwh: 1000 } });
    const capNet = netImportW(capped, ['a', 'b']);
    expect(capNet[2]).toBe(800);
    expect(capNet.reduce((a, b) => a + b, 0)).toBe(4 * 1800);
    // The plan's cost is its energy (prices are flat): the shortfall term never enters it.
    expect(capped.plan.totals.costNano).toBe(free.plan.totals.costNano);
  });

  it('comes as close as the assets allow when a bound cannot be met, rather than having no plan', async () => {
    const s = await solveScenario(street, { exchangeTargets: { siteIds: ['a'], steps: [{ step: 1, minW: -5000, maxW: -2000 }], shortfallPerKwh: 1000 } });
    // Alice's 1000 W load less the battery's 1500 W is the lowest she can go: −500 W.
    expect(netImportW(s, ['a'])[1]).toBe(-500);
  });

  it('refuses a target on an unknown site or outside the horizon, naming it', () => {
    const scenario = parseScenario(street);
    const bad = (targets: Parameters<typeof buildModel>[1]) => () => buildModel(scenario, targets);
    expect(bad({ exchangeTargets: { siteIds: ['nobody'], steps: [], shortfallPerKwh: 1 } })).toThrow(BadRequestError);
    expect(bad({ exchangeTargets: { siteIds: ['a'], steps: [{ step: 4, minW: 0, maxW: 1 }], shortfallPerKwh: 1 } })).toThrow(/outside the horizon/);
    expect(bad({ exchangeTargets: { siteIds: ['a'], steps: [{ step: 0, minW: 2, maxW: 1 }], shortfallPerKwh: 1 } })).toThrow(/minW above maxW/);
  });
});
