import { describe, expect, it } from 'vitest';
import { buildModel, InfeasibleScenarioError } from '../../src/optimise/domain/build.js';
import { LIMIT_EXCESS_PER_KWH } from '../../src/optimise/domain/assets/index.js';
import { planDocument } from '../../src/optimise/domain/plan.js';
import { parseScenario } from '../../src/optimise/domain/scenario.js';
import { hour, kwh, oneSite, solveScenario } from './support.js';

/**
 * Every asset on small hourly cases whose optimum is worked out by hand in the comments, plus
 * the pre-checks that name the asset and step of an impossible input. Each solved plan is
 * checked against the model independently of HiGHS (support.ts).
 */
const money = (nano: bigint) => Number(nano) / 1e9;

function infeasibility(raw: unknown): InfeasibleScenarioError {
  try {
    buildModel(parseScenario(raw));
  } catch (error) {
    if (error instanceof InfeasibleScenarioError) return error;
    throw error;
  }
  throw new Error('expected an infeasible scenario');
}

describe('load and grid connection', () => {
  it('pays the import price of every step for a fixed load', async () => {
    // 1 kW for four hours at 0.2, 0.3, 0.1, 0.4 per kWh = 1.00.
    const s = await solveScenario(oneSite(4, [{ type: 'load', id: 'base', powerW: 1000 }], { importPrice: [0.2, 0.3, 0.1, 0.4] }));
    expect(s.result.objective).toBeCloseTo(1, 9);
    expect(s.plan.totals.costNano).toBe(1_000_000_000n);
    expect(Array.from(s.plan.sites[0]!.importWh)).toEqual([1000, 1000, 1000, 1000]);
    expect(s.built.gridBinaries).toBe(0);
  });

  it('needs import/export binaries only at steps where export pays more than import', async () => {
    // PV 2 kW, load 1 kW; export pays 0.3, import costs 0.1 at step 0 only. Without the binary
    // the LP would import 1 kW and export 2 kW at once (−0.5 instead of −0.3 at that step).
    const s = await solveScenario(oneSite(2, [
      { type: 'load', id: 'base', powerW: 1000 },
      { type: 'producer', id: 'pv', forecastW: 2000 },
    ], { importPrice: [0.1, 0.3], exportPrice: [0.3, 0.05] }));
    expect(s.built.gridBinaries).toBe(1);
    expect(s.built.model.columns.names).toContain('home.grid.importing.t0');
    expect(s.built.model.columns.names).not.toContain('home.grid.importing.t1');
    expect(s.result.objective).toBeCloseTo(-0.3 - 0.05, 9);
    const x = s.result.solution!;
    const imp = s.built.model.columns.names.indexOf('home.grid.import.t0');
    expect(x[imp]).toBeCloseTo(0, 9);
  });

  it('exports only what is produced at that step when asked (no battery-to-grid)', async () => {
    // A full 2 kWh battery may end empty; export pays 0.2. Free to export: −0.40. Export only
    // production: nothing leaves, 0.
    const battery = { type: 'storage', id: 'bat', capacityWh: 2000, maxChargeW: 1000, maxDischargeW: 1000, chargeEfficiency: 1, dischargeEfficiency: 1, initialSoc: 1, terminalSoc: 0 };
    const free = await solveScenario(oneSite(2, [battery], { exportPrice: 0.2 }));
    expect(free.result.objective).toBeCloseTo(-0.4, 9);
    const limited = await solveScenario(oneSite(2, [battery, { type: 'producer', id: 'pv', forecastW: [500, 0] }], { exportPrice: 0.2, exportOnlyProduction: true }));
    // Only the 0.5 kWh of PV may leave: −0.10.
    expect(limited.result.objective).toBeCloseTo(-0.1, 9);
    expect(Array.from(limited.plan.sites[0]!.exportWh)).toEqual([500, 0]);
  });

  it('prices the peak import and keeps under a capacity limit', async () => {
    // Load 1, 3, 1, 1 kW at 0.1; a 4 kWh battery (2 kW, lossless) starting and ending at 2 kWh
    // flattens import to 1.5 kW: energy 0.60 + peak 1.5 kW × 1.00 = 2.10.
    const assets = [
      { type: 'load', id: 'base', powerW: [1000, 3000, 1000, 1000] },
      { type: 'storage', id: 'bat', capacityWh: 4000, maxChargeW: 2000, maxDischargeW: 2000, chargeEfficiency: 1, dischargeEfficiency: 1, initialSoc: 0.5 },
    ];
    const s = await solveScenario(oneSite(4, assets, { importPrice: 0.1, peak: { pricePerKw: 1 } }));
    expect(s.result.objective).toBeCloseTo(2.1, 9);
    expect(s.plan.totals.peakImportW).toBe(1500);
    expect(money(s.plan.totals.costNano)).toBeCloseTo(2.1, 9);
    // Below 1.5 kW there is not enough energy: 4 × 1.4 kWh < 6 kWh, so 0.4 kWh must cross the
    // limit (priced LIMIT_EXCESS_PER_KWH), and no more than that.
    const tooTight = await solveScenario(oneSite(4, assets, { importPrice: 0.1, peak: { limitW: 1400 } }));
    const excess = tooTight.plan.sites[0]!.limitExcess!;
    expect(excess.reduce((sum, e) => sum + e.importW, 0)).toBe(400);
    expect(excess.every((e) => e.exportW === 0)).toBe(true);
    expect(tooTight.result.objective).toBeCloseTo(0.6 + 0.4 * LIMIT_EXCESS_PER_KWH, 6);
    expect(tooTight.plan.totals.objective).toBeCloseTo(tooTight.result.objective!, 6);
  });

  it('shares a community connection limit between sites', async () => {
    // Two 2 kW one-hour appliances, both cheaper at step 0, but the community takes 2 kW at most.
    const appliance = { type: 'appliance', id: 'wm', profileW: [2000] };
    const raw = {
      name: 'two', start: hour(0), steps: 2, stepMinutes: 60,
      community: { grid: { importLimitW: 2000 } },
      sites: ['a', 'b'].map((id) => ({ id, member: id, grid: { importPrice: [0.1, 0.2] }, assets: [appliance] })),
    };
    const s = await solveScenario(raw);
    expect(s.result.objective).toBeCloseTo(0.2 + 0.4, 9);
    expect(Array.from(s.plan.sites[2]!.importWh)).toEqual([2000, 2000]);
    // Without a plan both would run at once and break the limit; the plan document says so.
    const doc = planDocument(s.scenario, s.result, s.plan, s.base);
    expect(doc.sites[2]).toMatchObject({ id: null, baselineLimitViolations: [hour(0)] });
    expect(doc.sites[0]!.baselineLimitViolations).toBeUndefined();
  });
});

describe('connection limits per step', () => {
  const lossless = { type: 'storage', id: 'bat', capacityWh: 4000, maxChargeW: 2000, maxDischargeW: 2000, chargeEfficiency: 1, dischargeEfficiency: 1, initialSoc: 0.5 };

  it('makes the battery discharge where the load would exceed the import limit', async () => {
    // Flat price: without a limit the battery has no reason to move. Load 1, 4, 1, 1 kW under a
    // 3 kW limit: the battery gives 1 kW at step 1 and takes it back later (0.7 either way).
    const free = await solveScenario(oneSite(4, [{ type: 'load', id: 'base', powerW: [1000, 4000, 1000, 1000] }, lossless], { importPrice: 0.1 }));
    const limited = await solveScenario(oneSite(4, [{ type: 'load', id: 'base', powerW: [1000, 4000, 1000, 1000] }, lossless], { importPrice: 0.1, importLimitW: [5000, 3000, 5000, 5000] }));
    expect(free.result.objective).toBeCloseTo(0.7, 9);
    expect(limited.result.objective).toBeCloseTo(0.7, 9);
    expect(limited.plan.sites[0]!.importWh[1]).toBe(3000);
    expect(limited.asset('bat').energyWh[1]).toBe(-1000);
    expect(limited.plan.sites[0]!.limitExcess).toEqual([]);
  });

  it('spreads an EV over more steps when the cheapest step cannot take all of it', async () => {
    // 10 kWh needed; 0.1 at step 0, 0.3 after. Unlimited: all at step 0 (1.00). A 6 kW limit:
    // 6 kWh at step 0, 4 at step 1 (0.6 + 1.2 = 1.80).
    const ev = { type: 'ev', id: 'car', capacityWh: 60000, maxPowerW: 11000, efficiency: 1, sessions: [{ arrival: hour(0), departure: hour(3), socAtConnectionWh: 10000, energyNeededWh: 10000 }] };
    const free = await solveScenario(oneSite(3, [ev], { importPrice: [0.1, 0.3, 0.3] }));
    expect(free.result.objective).toBeCloseTo(1, 9);
    const limited = await solveScenario(oneSite(3, [ev], { importPrice: [0.1, 0.3, 0.3], importLimitW: 6000 }));
    expect(limited.result.objective).toBeCloseTo(1.8, 9);
    expect(kwh(limited.asset('car').energyWh)).toEqual([6, 4, 0]);
  });

  it('moves an appliance to a dearer step rather than exceed the limit', async () => {
    // Fixed 2 kW at step 0 under a 3 kW limit: the 2 kW run moves to step 1 (0.2 + 0.4 = 0.60).
    const s = await solveScenario(oneSite(2, [{ type: 'load', id: 'base', powerW: [2000, 0] }, { type: 'appliance', id: 'wm', profileW: [2000] }], { importPrice: [0.1, 0.2], importLimitW: 3000 }));
    expect(s.result.objective).toBeCloseTo(0.6, 9);
    expect(s.asset('wm').starts).toEqual([1]);
  });

  it('plans a fixed load beyond the limit instead of failing, and reports the excess per step', async () => {
    const s = await solveScenario(oneSite(3, [{ type: 'load', id: 'base', powerW: [1000, 5000, 1000] }], { importPrice: 0.1, importLimitW: 3000 }));
    expect(s.result.status).toBe('optimal');
    expect(s.plan.sites[0]!.limitExcess).toEqual([{ step: 1, importW: 2000, exportW: 0 }]);
    const doc = planDocument(s.scenario, s.result, s.plan, s.base);
    expect(doc.sites[0]!.limitExcess).toEqual([{ at: hour(1), importW: 2000, exportW: 0 }]);
    expect(doc.sites[0]!.baselineLimitViolations).toEqual([hour(1)]);
  });

  it('curtails PV to an export limit where it may, and reports the excess where it may not', async () => {
    const pv = { type: 'producer', id: 'pv', forecastW: [4000, 2000] };
    const curtailable = await solveScenario(oneSite(2, [{ ...pv, curtailable: true }], { exportPrice: 0.1, exportLimitW: 3000 }));
    expect(kwh(curtailable.asset('pv').curtailedWh!)).toEqual([1, 0]);
    expect(curtailable.plan.sites[0]!.limitExcess).toEqual([]);
    const fixed = await solveScenario(oneSite(2, [pv], { exportPrice: 0.1, exportLimitW: 3000 }));
    expect(fixed.plan.sites[0]!.limitExcess).toEqual([{ step: 0, importW: 0, exportW: 1000 }]);
    // Not a slack where the bus can never reach the limit.
    expect(fixed.built.model.columns.names).toContain('home.grid.exportover.t0');
    expect(fixed.built.model.columns.names).not.toContain('home.grid.exportover.t1');
  });
});

describe('producer', () => {
  it('curtails where export costs money, only if the device accepts a limit', async () => {
    const pv = { type: 'producer', id: 'pv', forecastW: 2000 };
    const curtailed = await solveScenario(oneSite(2, [{ ...pv, curtailable: true }], { exportPrice: -0.05 }));
    expect(curtailed.result.objective).toBeCloseTo(0, 9);
    expect(Array.from(curtailed.asset('pv').curtailedWh!)).toEqual([2000, 2000]);
    const fixed = await solveScenario(oneSite(2, [pv], { exportPrice: -0.05 }));
    expect(fixed.result.objective).toBeCloseTo(0.2, 9);
  });

  it('does not curtail what earns money', async () => {
    // 2 kW PV, 0.5 kW load, export 0.08: −1.5 kWh × 2 × 0.08 = −0.24.
    const s = await solveScenario(oneSite(2, [{ type: 'producer', id: 'pv', forecastW: 2000, curtailable: true }, { type: 'load', id: 'base', powerW: 500 }], { importPrice: 0.3, exportPrice: 0.08 }));
    expect(s.result.objective).toBeCloseTo(-0.24, 9);
    expect(Array.from(s.asset('pv').producedWh!)).toEqual([2000, 2000]);
  });
});

describe('storage', () => {
  const battery = { type: 'storage', id: 'bat', capacityWh: 2000, maxChargeW: 1000, maxDischargeW: 1000, chargeEfficiency: 1, dischargeEfficiency: 1, initialSoc: 0 };
  const load = { type: 'load', id: 'base', powerW: 1000 };
  const prices = { importPrice: [0.1, 0.1, 0.5, 0.5] };

  it('charges when cheap and discharges when dear', async () => {
    // Charge 1 kWh in each cheap hour, cover the dear hours: 2 × 2 kWh × 0.1 = 0.40.
    const s = await solveScenario(oneSite(4, [load, battery], prices));
    expect(s.result.objective).toBeCloseTo(0.4, 9);
    expect(s.asset('bat').socWh).toEqual([1000, 2000, 1000, 0]);
    // Without a plan the empty battery has no surplus to store: 1.20.
    expect(money(s.base.totals.costNano)).toBeCloseTo(1.2, 9);
  });

  it('loses energy through its efficiencies', async () => {
    // 0.9 each way: 1.8 kWh stored deliver 1.62 kWh; 0.38 kWh still come from the grid at 0.5.
    const s = await solveScenario(oneSite(4, [load, { ...battery, chargeEfficiency: 0.9, dischargeEfficiency: 0.9 }], prices));
    expect(s.result.objective).toBeCloseTo(0.4 + 0.38 * 0.5, 6);
  });

  it('respects availability per step', async () => {
    // Unavailable in hour 1: 1 kWh stored in hour 0 covers hour 2: 0.2 + 0.1 + 0 + 0.5 = 0.80.
    const s = await solveScenario(oneSite(4, [load, { ...battery, availability: [1, 0, 1, 1] }], prices));
    expect(s.result.objective).toBeCloseTo(0.8, 9);
    expect(kwh(s.asset('bat').energyWh)).toEqual([1, 0, -1, 0]);
  });

  it('adds a charge/discharge binary only at steps with a negative price', async () => {
    const s = await solveScenario(oneSite(4, [load, { ...battery, chargeEfficiency: 0.9, dischargeEfficiency: 0.9, initialSoc: 0.5 }], { importPrice: [0.1, -0.2, 0.3, 0.3] }));
    const names = s.built.model.columns.names;
    expect(names.filter((n) => n.startsWith('home.bat.charging'))).toEqual(['home.bat.charging.t1']);
    const x = s.result.solution!;
    for (let t = 0; t < 4; t++) {
      expect(Math.min(x[names.indexOf(`home.bat.c.t${t}`)]!, x[names.indexOf(`home.bat.d.t${t}`)]!)).toBeLessThan(1e-9);
    }
  });

  it('reports a terminal SoC it cannot reach, naming the asset', () => {
    const error = infeasibility(oneSite(4, [{ ...battery, maxChargeW: 400, terminalSoc: 1 }]));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatchObject({ site: 'home', asset: 'bat', at: hour(3) });
    expect(error.message).toMatch(/home\/bat.*terminal SoC 100\.0 % cannot be reached.*at most 80\.0 %/);
  });
});

describe('EV', () => {
  const ev = { type: 'ev', id: 'car', capacityWh: 60000, maxPowerW: 10000, efficiency: 1 };
  const session = { arrival: hour(0), departure: hour(4), socAtConnectionWh: 20000, energyNeededWh: 14000 };
  const prices = { importPrice: [0.3, 0.1, 0.2, 0.4] };

  it('charges what is needed by departure in the cheapest hours', async () => {
    // 10 kWh at 0.1 and 4 kWh at 0.2 = 1.80.
    const s = await solveScenario(oneSite(4, [{ ...ev, sessions: [session] }], prices));
    expect(s.result.objective).toBeCloseTo(1.8, 9);
    expect(kwh(s.asset('car').energyWh)).toEqual([0, 10, 4, 0]);
    expect(s.asset('car').socWh).toEqual([20000, 30000, 34000, 34000]);
  });

  it('charges at the minimum power or not at all (a binary per step)', async () => {
    // 4 kWh below a 6 kW minimum is not allowed: 8 kWh at 0.1 + 6 kWh at 0.2 = 2.00.
    const s = await solveScenario(oneSite(4, [{ ...ev, minPowerW: 6000, sessions: [session] }], prices));
    expect(s.result.objective).toBeCloseTo(2.0, 9);
    expect(kwh(s.asset('car').energyWh)).toEqual([0, 8, 6, 0]);
    expect(s.built.model.columns.names.filter((n) => n.startsWith('home.car.s0.on'))).toHaveLength(4);
  });

  it('leaves for later what it can charge after the horizon', async () => {
    // Departure 2 h after the horizon: 20 kWh fit in there, nothing is needed now.
    const s = await solveScenario(oneSite(4, [{ ...ev, sessions: [{ ...session, departure: hour(6) }] }], prices));
    expect(s.result.objective).toBeCloseTo(0, 9);
  });

  it('feeds the house from its battery when bidirectional', async () => {
    // Load 2 kW; discharge in the dear hours, recharge 4 kWh in the cheap ones: 2 × 4 kWh × 0.1 = 0.80 (2.40 without).
    const raw = oneSite(4, [
      { type: 'load', id: 'base', powerW: 2000 },
      { ...ev, bidirectional: true, minSocWh: 10000, sessions: [{ ...session, energyNeededWh: 0 }] },
    ], { importPrice: [0.1, 0.5, 0.1, 0.5] });
    const s = await solveScenario(raw);
    expect(s.result.objective).toBeCloseTo(0.8, 9);
    expect(Math.min(...s.asset('car').energyWh)).toBe(-2000);
    expect(s.asset('car').socWh!.at(-1)).toBeGreaterThanOrEqual(20000);
  });

  it('reports energy that does not fit in the window, naming the asset and the departure', () => {
    const error = infeasibility(oneSite(4, [{ ...ev, sessions: [{ ...session, socAtConnectionWh: 5000, energyNeededWh: 50000 }] }]));
    expect(error.problems[0]).toMatchObject({ site: 'home', asset: 'car', at: hour(3) });
    expect(error.message).toMatch(/needs 50\.0 kWh by departure at 2026-06-01T04:00:00Z, but at most 40\.0 kWh can be charged/);
  });

  it('reports energy needed beyond the battery', () => {
    expect(infeasibility(oneSite(4, [{ ...ev, sessions: [{ ...session, energyNeededWh: 45000 }] }])).message).toMatch(/more than its 60\.0 kWh battery holds/);
  });
});

describe('deferrable appliance', () => {
  const washer = { type: 'appliance', id: 'wm', profileW: [1000, 500] };
  const prices = { importPrice: [0.4, 0.1, 0.2, 0.3] };

  it('starts once, at the cheapest start for its whole run', async () => {
    // Start at 1: 1 × 0.1 + 0.5 × 0.2 = 0.20 (start 0: 0.45; start 2: 0.35).
    const s = await solveScenario(oneSite(4, [washer], prices));
    expect(s.result.objective).toBeCloseTo(0.2, 9);
    expect(s.asset('wm').starts).toEqual([1]);
    // Without a plan it starts at the start of its window.
    expect(s.base.sites[0]!.assets[0]!.steps.starts).toEqual([0]);
    expect(money(s.base.totals.costNano)).toBeCloseTo(0.45, 9);
  });

  it('is ready by its ready-by time', async () => {
    const s = await solveScenario(oneSite(4, [{ ...washer, readyBy: hour(2) }], prices));
    expect(s.asset('wm').starts).toEqual([0]);
    expect(s.result.objective).toBeCloseTo(0.45, 9);
  });

  it('runs several times without overlapping', async () => {
    // Two runs of two hours in four hours: only 0 and 2.
    const s = await solveScenario(oneSite(4, [{ ...washer, runs: 2 }], prices));
    expect(s.asset('wm').starts).toEqual([0, 2]);
    expect(s.result.objective).toBeCloseTo(0.4 + 0.05 + 0.2 + 0.15, 9);
  });

  it('reports a run that does not fit before the ready-by time', () => {
    const error = infeasibility(oneSite(4, [{ ...washer, earliestStart: hour(1), readyBy: hour(2) }]));
    expect(error.problems[0]).toMatchObject({ site: 'home', asset: 'wm', at: hour(1) });
    expect(error.message).toMatch(/1 run\(s\) of 2 steps do not fit between 2026-06-01T01:00:00Z and the ready-by time 2026-06-01T02:00:00Z/);
  });
});

describe('heat pump with a tank', () => {
  // C = 1000 L × 1 Wh/(L·K) = 1 kWh/K; 3 kW heat demand; COP 3; 2 kW electric at most.
  const heatPump = {
    type: 'heat-pump', id: 'hp', maxElectricW: 2000, cop: 3, tankVolumeL: 1000, heatCapacityWhPerLK: 1,
    tempMinC: 40, tempMaxC: 50, initialTempC: 45, heatDemandW: 3000,
  };
  const prices = { importPrice: [0.1, 0.5, 0.1, 0.5] };

  it('heats the tank in the cheap hours and draws on it in the dear ones', async () => {
    // 12 kWh heat = 4 kWh electric, all in the two cheap hours: 0.40; the tank swings 45 → 48 → 45.
    const s = await solveScenario(oneSite(4, [heatPump], prices));
    expect(s.result.objective).toBeCloseTo(0.4, 9);
    expect(kwh(s.asset('hp').energyWh)).toEqual([2, 0, 2, 0]);
    expect(Array.from(s.asset('hp').temperatureC!, (c) => Math.round(c * 1000) / 1000)).toEqual([48, 45, 48, 45]);
  });

  it('pays for its starts and keeps its minimum running power', async () => {
    // One run cannot do it (a third hour at ≥ 1.5 kW overheats the tank): two starts, 0.40 + 2 × 0.05.
    const s = await solveScenario(oneSite(4, [{ ...heatPump, minElectricW: 1500, startCost: 0.05 }], prices));
    expect(s.result.objective).toBeCloseTo(0.5, 9);
    expect(s.asset('hp').starts).toEqual([0, 2]);
    expect(money(s.plan.totals.costNano)).toBeCloseTo(0.5, 9);
  });

  it('accounts for tank losses towards the ambient temperature', async () => {
    // 100 W/K to 25 °C: at 45 °C the tank loses 2 kWh an hour; with no demand, holding it at
    // exactly 45 °C takes 2/3 kWh electric an hour: 4 × 2/3 × 0.1 = 0.2667 at a flat 0.1.
    const s = await solveScenario(oneSite(4, [{ ...heatPump, heatDemandW: 0, lossWPerK: 100, ambientC: 25, tempMinC: 45, tempMaxC: 45 }], { importPrice: 0.1 }));
    expect(s.result.objective).toBeCloseTo((4 * 2 / 3) * 0.1, 6);
  });

  it('reports heat demand it cannot meet, naming the step', () => {
    const error = infeasibility(oneSite(4, [{ ...heatPump, heatDemandW: 10000 }]));
    expect(error.problems[0]).toMatchObject({ site: 'home', asset: 'hp', at: hour(1) });
    expect(error.message).toMatch(/heat demand of 10000 W cannot be met/);
  });
});

describe('objectives', () => {
  const washer = { type: 'appliance', id: 'wm', profileW: [1000] };
  const raw = (objective: unknown) => oneSite(2, [washer], { importPrice: [0.1, 0.3] }, { objective, community: { grid: { co2GPerKWh: [500, 100] } } });

  it('minimises cost, CO2 or a weighted sum of both', async () => {
    expect((await solveScenario(raw('cost'))).asset('wm').starts).toEqual([0]);
    expect((await solveScenario(raw('co2'))).asset('wm').starts).toEqual([1]);
    // 0.1 + 0.5 kg × 0.1 = 0.15 beats 0.3 + 0.01; at 1 per kg 0.6 loses to 0.4.
    expect((await solveScenario(raw({ cost: 1, co2PerKg: 0.1 }))).result.objective).toBeCloseTo(0.15, 9);
    const heavy = await solveScenario(raw({ cost: 1, co2PerKg: 1 }));
    expect(heavy.asset('wm').starts).toEqual([1]);
    expect(heavy.plan.totals.co2Grams).toBeCloseTo(100, 9);
  });

  it('keeps PV in the community for autarky and self-consumption', async () => {
    const assets = [
      { type: 'producer', id: 'pv', forecastW: [2000, 0] },
      { type: 'load', id: 'base', powerW: [0, 2000] },
      { type: 'storage', id: 'bat', capacityWh: 2000, maxChargeW: 2000, maxDischargeW: 2000, chargeEfficiency: 1, dischargeEfficiency: 1, initialSoc: 0 },
    ];
    for (const objective of ['autarky', 'self-consumption']) {
      const s = await solveScenario(oneSite(2, assets, {}, { objective }));
      expect(s.result.objective).toBeCloseTo(0, 9);
      expect(s.plan.totals.importWh + s.plan.totals.exportWh).toBe(0);
      expect(s.plan.totals.selfSufficiency).toBe(1);
    }
  });
});
