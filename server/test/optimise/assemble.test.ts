import { describe, expect, it } from 'vitest';
import { createLocalClock } from '../../src/kernel/calendar.js';
import { parseScenario } from '../../src/optimise/index.js';
import { assembleScenario, fillGaps, type AssemblyInput } from '../../src/optimise/domain/assemble.js';
import { validateLimits } from '../../src/optimise/domain/control.js';
import { planCommands, stateAt } from '../../src/optimise/domain/device-commands.js';
import type { PlanDocument } from '../../src/optimise/domain/plan.js';

const Q = 15 * 60_000;
// 10:07 in Vienna on a Monday in June.
const NOW = Date.UTC(2026, 5, 15, 8, 7);
const START = Date.UTC(2026, 5, 15, 8, 15);

function input(over: Partial<AssemblyInput> = {}): AssemblyInput {
  return {
    name: 'Test', timeZone: 'Europe/Vienna', clock: createLocalClock('Europe/Vienna'), currency: 'EUR', nowMs: NOW, steps: 8,
    weights: { cost: 1, co2PerKg: 0, importPerKwh: 0, exportPerKwh: 0, peakPerKw: 0 },
    tariff: { gridPrice: '0.30', communityPrice: '0.15', feedInPrice: '0.07', timeOfUse: [{ days: [1, 2, 3, 4, 5], from: '10:00', to: '11:00', gridPrice: '0.20' }] },
    points: [
      { id: 'p1', memberId: 'm1', name: 'Home 1', communityBattery: false, batteryCapacityWh: null },
      { id: 'p2', memberId: 'm2', name: 'Shared battery', communityBattery: true, batteryCapacityWh: 20_000 },
    ],
    devices: [
      { id: 'bat-1', name: 'Battery', kind: 'battery', meteringPointId: 'p1', controllable: true, limits: { reserveSoc: 0.3 }, overrideUntilMs: null },
      { id: 'bat-2', name: 'Shared', kind: 'battery', meteringPointId: 'p2', controllable: true, limits: {}, overrideUntilMs: null },
      { id: 'hp-1', name: 'Heat pump', kind: 'heat-pump', meteringPointId: 'p1', controllable: false, limits: {}, overrideUntilMs: null },
      { id: 'ev-1', name: 'EV', kind: 'ev-charger', meteringPointId: 'p1', controllable: true, limits: {}, overrideUntilMs: NOW + 3_600_000 },
      { id: 'meter', name: 'Meter', kind: 'meter-reader', meteringPointId: 'p1', controllable: true, limits: {}, overrideUntilMs: null },
    ],
    requests: [],
    forecasts: new Map([['p1', { consumption: [500, null, 700, 800, 900, null, null, 600], production: [0, 0, 2000, 3000, 3000, 2000, 0, 0] }]]),
    state: new Map([['bat-1', { socWh: 8_000 }]]),
    solver: { timeLimitS: 5 },
    ...over,
  };
}

describe('the community as a scenario', () => {
  it('fills forecast gaps from the nearest known step, else 0', () => {
    expect(fillGaps([100, null, 300, null], 4)).toEqual([100, 100, 300, 300]);
    expect(fillGaps(undefined, 3)).toEqual([0, 0, 0]);
  });

  it('maps sites, forecasts, controllable devices and the tariff to a valid scenario; overrides and other devices stay out', () => {
    const assembly = assembleScenario(input());
    expect(assembly.startMs).toBe(START);
    const scenario = parseScenario(assembly.scenario);
    expect(scenario.sites.map((s) => s.assets.map((a) => a.type))).toEqual([['load', 'producer', 'storage'], []]);
    // The community battery sits at the community's connection.
    expect(scenario.community.assets.map((a) => a.type)).toEqual(['storage']);
    expect(assembly.overridden).toEqual(['ev-1']);
    expect(assembly.bindings.filter((b) => b.controls).map((b) => [b.key, b.deviceId, b.controls])).toEqual([
      ['site-1/battery-1', 'bat-1', 'battery'], ['community/battery-1', 'bat-2', 'battery'],
    ]);
    const sites = assembly.scenario.sites as { assets: Record<string, unknown>[]; grid: Record<string, unknown> }[];
    expect(sites[0]!.assets[0]!.powerW).toEqual([500, 500, 700, 800, 900, 900, 600, 600]);
    // The battery starts where the last plan left it; its reserve is kept.
    expect(sites[0]!.assets[2]).toMatchObject({ initialSoc: 0.8, socMin: 0.3, capacityWh: 10_000 });
    // Sites trade at the community price; the community's connection adds the grid's price beyond it (time of use in local time).
    expect(sites[0]!.grid).toEqual({ importPrice: '0.15', exportPrice: '0.15' });
    const grid = (assembly.scenario.community as { grid: Record<string, unknown> }).grid;
    expect(grid).toEqual({
      importPrice: { default: '0.150000', periods: [{ from: '10:00', to: '11:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'], price: '0.050000' }] },
      exportPrice: '-0.080000',
    });
  });

  it('starts a battery from its report, else from where the last plan left it, else half full, and says which', () => {
    const measuredAtMs = NOW - 5 * 60_000;
    const assembly = assembleScenario(input({ measuredSoc: new Map([['bat-2', { soc: 0.42, atMs: measuredAtMs }]]) }));
    const initial = (id: string, a = assembly) => a.bindings.find((b) => b.deviceId === id)!.initialSoc;
    expect(initial('bat-2')).toEqual({ soc: 0.42, source: 'measured', measuredAtMs });
    expect(initial('bat-1')).toEqual({ soc: 0.8, source: 'previous-plan' });
    expect((assembly.scenario.community as { assets: Record<string, unknown>[] }).assets[0]).toMatchObject({ initialSoc: 0.42 });
    // A report wins over the last plan; without either the battery is assumed half full.
    const reported = assembleScenario(input({ measuredSoc: new Map([['bat-1', { soc: 0.25, atMs: measuredAtMs }]]) }));
    expect(initial('bat-1', reported)).toEqual({ soc: 0.25, source: 'measured', measuredAtMs });
    expect((reported.scenario.sites as { assets: Record<string, unknown>[] }[])[0]!.assets[2]).toMatchObject({ initialSoc: 0.25, socMin: 0.25 });
    expect(initial('bat-1', assembleScenario(input({ state: new Map() })))).toEqual({ soc: 0.5, source: 'default' });
  });

  it('plans an appliance request inside the horizon, and a started one as a fixed load', () => {
    const plug = { id: 'plug', name: 'Washer', kind: 'smart-plug', meteringPointId: 'p1', controllable: true, limits: { runPowerW: [2000, 1000] }, overrideUntilMs: null };
    const open = assembleScenario(input({ devices: [plug], requests: [{ id: 'r1', deviceId: 'plug', earliestStartMs: NOW, readyByMs: START + 4 * Q, startsAtMs: null }] }));
    const asset = (open.scenario.sites as { assets: Record<string, unknown>[] }[])[0]!.assets.find((a) => a.type === 'appliance');
    expect(asset).toMatchObject({ profileW: [2000, 1000], earliestStart: new Date(START).toISOString(), readyBy: new Date(START + 4 * Q).toISOString() });
    expect(open.bindings.find((b) => b.requestId === 'r1')).toMatchObject({ deviceId: 'plug', controls: 'smart-plug' });
    const running = assembleScenario(input({ devices: [plug], requests: [{ id: 'r1', deviceId: 'plug', earliestStartMs: NOW, readyByMs: START + 4 * Q, startsAtMs: START - Q }] }));
    const load = (running.scenario.sites as { assets: Record<string, unknown>[] }[])[0]!.assets.find((a) => a.id === 'running-1');
    expect(load).toMatchObject({ type: 'load', powerW: [1000, 0, 0, 0, 0, 0, 0, 0] });
    expect(running.bindings.find((b) => b.requestId === 'r1')).toMatchObject({ deviceId: 'plug', controls: null });
  });

  it('refuses limits of another kind or out of their pairs, naming the field', () => {
    expect(() => validateLimits('battery', { comfortMinC: 40 })).toThrow(/limits\/comfortMinC/);
    expect(() => validateLimits('heat-pump', { comfortMinC: 50, comfortMaxC: 51 })).toThrow(/comfortMaxC/);
    expect(() => validateLimits('ev-charger', { minChargeWh: 50_000, maxPowerW: 1_000, pluggedInFrom: '06:00', readyBy: '07:00' })).toThrow(/minChargeWh/);
    expect(() => validateLimits('meter-reader', {})).toThrow(/kind meter-reader/);
    expect(validateLimits('battery', { reserveSoc: 0.5 })).toEqual({ reserveSoc: 0.5 });
  });
});

describe('commands from a plan', () => {
  const document = {
    start: new Date(START).toISOString(), steps: 6, stepMinutes: 15,
    sites: [
      { id: 'site-1', assets: [
        { id: 'battery-1', type: 'storage', powerW: [1000, -500, 0, 0, 0, 0], energyWh: [], socWh: [5250, 5125, 5125, 5125, 5125, 5125] },
        { id: 'pv', type: 'producer', powerW: [], energyWh: [], producedWh: [500, 400, 0, 0, 0, 0], curtailedWh: [0, 100, 0, 0, 0, 0] },
        { id: 'appliance-1', type: 'appliance', powerW: [2000, 1000, 0, 0, 0, 0], energyWh: [], starts: [new Date(START).toISOString()] },
      ] },
    ],
  } as unknown as PlanDocument;
  const bindings = [
    { key: 'site-1/battery-1', name: 'B', type: 'storage', deviceId: 'bat', controls: 'battery' as const, meteringPointId: 'p1', memberId: 'm1' },
    { key: 'site-1/pv', name: 'PV', type: 'producer', deviceId: 'inv', controls: 'inverter' as const, meteringPointId: 'p1', memberId: 'm1' },
    { key: 'site-1/appliance-1', name: 'W', type: 'appliance', deviceId: 'plug', controls: 'smart-plug' as const, meteringPointId: 'p1', memberId: 'm1', requestId: 'r1' },
  ];

  it('sends the first steps\' setpoints, curtailment only where the plan curtails, an appliance start valid a few minutes', () => {
    const commands = planCommands(document, bindings);
    expect(commands.filter((c) => c.deviceId === 'bat').map((c) => [c.value, c.validFromMs - START, c.expiresAtMs - c.validFromMs])).toEqual([
      [1000, 0, Q], [-500, Q, Q], [0, 2 * Q, Q], [0, 3 * Q, Q],
    ]);
    expect(commands.filter((c) => c.deviceId === 'inv')).toEqual([{ deviceId: 'inv', kind: 'pv-limit', value: 1600, validFromMs: START + Q, expiresAtMs: START + 2 * Q }]);
    expect(commands.filter((c) => c.deviceId === 'plug')).toEqual([{ deviceId: 'plug', kind: 'appliance-start', value: null, validFromMs: START, expiresAtMs: START + 10 * 60_000 }]);
    // Uncontrolled bindings send nothing.
    expect(planCommands(document, bindings.map((b) => ({ ...b, controls: null })))).toEqual([]);
  });

  it('tells where the plan leaves a device at a later start', () => {
    expect(stateAt(document, bindings, START + 2 * Q).get('bat')).toEqual({ socWh: 5125 });
    expect(stateAt(document, bindings, START).size).toBe(0);
  });
});
