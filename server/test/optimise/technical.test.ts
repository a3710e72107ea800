import { describe, expect, it } from 'vitest';
import { createLocalClock } from '../../src/kernel/calendar.js';
import { parseScenario } from '../../src/optimise/index.js';
import { assembleScenario, type AssemblyInput, type DeviceInput } from '../../src/optimise/domain/assemble.js';
import { narrowed } from '../../src/optimise/domain/technical.js';
import { solveScenario } from './support.js';

/**
 * Connection limits and devices' technical data in the assembled scenario (pure): the limits
 * reach the site's and the community's grid, a forecast beyond one is planned with the excess
 * reported, and technical data is used before the defaults, narrowed by the member's limits,
 * each value saying where it came from.
 */
const NOW = Date.UTC(2026, 5, 15, 8, 7);
const device = (id: string, kind: string, over: Partial<DeviceInput> = {}): DeviceInput =>
  ({ id, name: id, kind, meteringPointId: 'p1', controllable: true, limits: {}, overrideUntilMs: null, ...over });

function community(over: Partial<AssemblyInput>): AssemblyInput {
  return {
    name: 'Limits', timeZone: 'Europe/Vienna', clock: createLocalClock('Europe/Vienna'), currency: 'EUR', nowMs: NOW, steps: 4,
    weights: { cost: 1, co2PerKg: 0, importPerKwh: 0, exportPerKwh: 0, peakPerKw: 0 },
    tariff: { gridPrice: '0.30', communityPrice: '0.15', feedInPrice: '0.07', timeOfUse: null },
    points: [{ id: 'p1', memberId: 'm1', name: 'Home 1', communityBattery: false, batteryCapacityWh: 8_000, importLimitW: 3_000, exportLimitW: 2_000 }],
    devices: [], requests: [], forecasts: new Map(), state: new Map(), solver: { timeLimitS: 5 },
    ...over,
  };
}
const sitesOf = (scenario: Record<string, unknown>) => scenario.sites as { grid: Record<string, unknown>; assets: Record<string, unknown>[] }[];

describe('connection limits in the assembled scenario', () => {
  it('gives each site its import and export limit and the community its connection\'s, none where there is none', () => {
    const assembly = assembleScenario(community({
      points: [
        { id: 'p1', memberId: 'm1', name: 'Home 1', communityBattery: false, batteryCapacityWh: null, importLimitW: 3_000, exportLimitW: 2_000 },
        { id: 'p2', memberId: 'm2', name: 'Home 2', communityBattery: false, batteryCapacityWh: null },
      ],
      communityLimits: { importLimitW: 50_000, exportLimitW: null },
    }));
    const sites = sitesOf(assembly.scenario);
    expect(sites[0]!.grid).toEqual({ importPrice: '0.15', exportPrice: '0.15', importLimitW: 3_000, exportLimitW: 2_000 });
    expect(sites[1]!.grid).toEqual({ importPrice: '0.15', exportPrice: '0.15' });
    expect((assembly.scenario.community as { grid: Record<string, unknown> }).grid).toMatchObject({ importLimitW: 50_000 });
    expect((assembly.scenario.community as { grid: Record<string, unknown> }).grid).not.toHaveProperty('exportLimitW');
  });

  it('plans a consumption forecast beyond the limit: the battery covers what it can, the rest is reported per step', async () => {
    // 5 kW at the second step under a 3 kW limit; the battery (5 kW, 8 kWh from the site's record) covers it.
    const forecasts = new Map([['p1', { consumption: [1000, 5000, 1000, 1000] }]]);
    const covered = await solveScenario(assembleScenario(community({ forecasts, devices: [device('bat', 'battery', { specs: { maxDischargeW: 5000 } })] })).scenario);
    expect(covered.plan.sites[0]!.importWh[1]).toBeLessThanOrEqual(750);
    expect(covered.plan.sites[0]!.limitExcess).toEqual([]);
    // Without a battery nothing can: the plan is made anyway, with the 2 kW excess at that step.
    const alone = await solveScenario(assembleScenario(community({ forecasts })).scenario);
    expect(['optimal', 'time-limit']).toContain(alone.result.status);
    expect(alone.plan.sites[0]!.limitExcess).toEqual([{ step: 1, importW: 2000, exportW: 0 }]);
  });
});

describe('devices\' technical data', () => {
  it('takes the recorded value unless the member\'s limit is lower; with none recorded the limit, else the default', () => {
    expect(narrowed([{ value: 5000, source: 'device' }], undefined, 1)).toEqual({ value: 5000, source: 'device' });
    expect(narrowed([{ value: 5000, source: 'device' }], 3000, 1)).toEqual({ value: 3000, source: 'member-limit' });
    expect(narrowed([{ value: 5000, source: 'device' }], 7000, 1)).toEqual({ value: 5000, source: 'device' });
    expect(narrowed([{ value: undefined, source: 'device' }, { value: 8000, source: 'site' }], undefined, 1)).toEqual({ value: 8000, source: 'site' });
    expect(narrowed([{ value: null, source: 'site' }], 7000, 1)).toEqual({ value: 7000, source: 'member-limit' });
    expect(narrowed([], undefined, 1)).toEqual({ value: 1, source: 'default' });
  });

  it('plans each device with its data before the defaults, narrowed by its member, and says where each value came from', () => {
    const assembly = assembleScenario(community({
      nowMs: Date.UTC(2026, 5, 15, 16, 7),
      forecasts: new Map([['p1', { consumption: [500, 500, 500, 500], heat: [800, 800, 800, 800] }]]),
      devices: [
        device('bat-spec', 'battery', { specs: { capacityWh: 13_500, maxChargeW: 5000, maxDischargeW: 4000, roundTripEfficiency: 0.81 }, limits: { maxPowerW: 4500 } }),
        device('bat-site', 'battery'),
        device('ev', 'ev-charger', { specs: { maxPowerW: 7400, phases: 1 }, limits: { pluggedInFrom: '18:00', readyBy: '07:00', minChargeWh: 10_000 } }),
        device('hp', 'heat-pump', { specs: { cop: 4, tankLitres: 200 } }),
        device('plug', 'smart-plug', { specs: { runProfileW: [1000, 500] } }),
      ],
      requests: [{ id: 'r1', deviceId: 'plug', earliestStartMs: Date.UTC(2026, 5, 15, 16, 15), readyByMs: Date.UTC(2026, 5, 15, 17, 15), startsAtMs: null }],
    }));
    parseScenario(assembly.scenario);
    const asset = (id: string) => sitesOf(assembly.scenario)[0]!.assets.find((a) => a.id === id)!;
    const sources = (deviceId: string) => assembly.bindings.find((b) => b.deviceId === deviceId)!.technical;
    expect(asset('battery-1')).toMatchObject({ capacityWh: 13_500, maxChargeW: 4500, maxDischargeW: 4000, chargeEfficiency: 0.9, dischargeEfficiency: 0.9 });
    expect(sources('bat-spec')).toEqual({ capacityWh: 'device', maxChargeW: 'member-limit', maxDischargeW: 'device', efficiency: 'device', reserveSoc: 'default' });
    expect(asset('battery-2')).toMatchObject({ capacityWh: 8000, maxChargeW: 4000, maxDischargeW: 4000, chargeEfficiency: 0.95 });
    expect(sources('bat-site')).toEqual({ capacityWh: 'site', maxChargeW: 'default', maxDischargeW: 'default', efficiency: 'default', reserveSoc: 'default' });
    // A single-phase charger charges with 6 A at least.
    expect(asset('ev-1')).toMatchObject({ maxPowerW: 7400, minPowerW: 1380 });
    expect(sources('ev')).toEqual({ maxPowerW: 'device', minPowerW: 'device' });
    expect(asset('heat-pump-1')).toMatchObject({ cop: 4, tankVolumeL: 200, maxElectricW: 3000, lossWPerK: 2, heatDemandW: [3200, 3200, 3200, 3200] });
    expect(sources('hp')).toEqual({ maxElectricW: 'default', cop: 'device', tankLitres: 'device', tankLossWPerK: 'default' });
    expect(asset('appliance-1')).toMatchObject({ profileW: [1000, 500] });
    expect(sources('plug')).toEqual({ runPowerW: 'device' });
  });
});
