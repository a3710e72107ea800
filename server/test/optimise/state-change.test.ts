import { describe, expect, it } from 'vitest';
import type { Binding } from '../../src/optimise/domain/assemble.js';
import type { PlanDocument } from '../../src/optimise/domain/plan.js';
import { departure, expectedAt, plannedStates, SOC_DEPARTURE, TEMPERATURE_DEPARTURE_K, type PlannedState } from '../../src/optimise/domain/state-change.js';

/** What a plan expects of a device's state at an instant, and when a report departs from it (pure). */
const START = Date.UTC(2026, 5, 1, 12);
const STEP = 15 * 60_000;
const battery: PlannedState = { measure: 'soc', capacityWh: 10_000, startMs: START, stepMs: STEP, initial: 5_000, ends: [6_000, 6_000, 4_000] };
const tank: PlannedState = { measure: 'temperature', capacityWh: null, startMs: START, stepMs: STEP, initial: 50, ends: [52, 54] };

describe('the state a plan expects', () => {
  it('is the start before the horizon, a straight line within a step, and nothing past the horizon', () => {
    expect(expectedAt(battery, START - 10 * 60_000)).toBe(5_000);
    expect(expectedAt(battery, START + STEP / 2)).toBe(5_500);
    expect(expectedAt(battery, START + STEP)).toBe(6_000);
    expect(expectedAt(battery, START + 2.25 * STEP)).toBe(5_500);
    expect(expectedAt(battery, START + 3 * STEP)).toBeUndefined();
  });

  it('knows nothing of an EV the plan does not see connected; the end of its first step connected stands for the step', () => {
    const ev: PlannedState = { measure: 'soc', capacityWh: 50_000, startMs: START, stepMs: STEP, initial: null, ends: [null, 20_000, 22_000] };
    expect(expectedAt(ev, START + STEP / 2)).toBeUndefined();
    expect(expectedAt(ev, START + 1.5 * STEP)).toBe(20_000);
    expect(expectedAt(ev, START + 2.5 * STEP)).toBe(21_000);
  });
});

describe('a departure from the plan', () => {
  it('is a state of charge more than 10 % of the capacity away, in percent', () => {
    expect(SOC_DEPARTURE).toBe(0.1);
    // Half way through the first step the plan expects 55 %.
    expect(departure(battery, 'b', 'battery.soc', 65, START + STEP / 2)).toBeUndefined();
    expect(departure(battery, 'b', 'battery.soc', 45, START + STEP / 2)).toBeUndefined();
    expect(departure(battery, 'b', 'battery.soc', 65.1, START + STEP / 2)).toEqual({ deviceId: 'b', quantity: 'battery.soc', measured: 65.1, expected: 55, atMs: START + STEP / 2 });
    expect(departure(battery, 'b', 'battery.soc', 44, START + STEP / 2)).toMatchObject({ expected: 55 });
  });

  it('is a tank more than 3 K away', () => {
    expect(TEMPERATURE_DEPARTURE_K).toBe(3);
    expect(departure(tank, 'h', 'heat-pump.tank-temperature', 53, START)).toBeUndefined();
    expect(departure(tank, 'h', 'heat-pump.tank-temperature', 46.9, START)).toMatchObject({ expected: 50, measured: 46.9 });
  });

  it('is never a report of another measure, nor one past the horizon', () => {
    expect(departure(tank, 'h', 'battery.soc', 99, START)).toBeUndefined();
    expect(departure(battery, 'b', 'heat-pump.tank-temperature', 99, START)).toBeUndefined();
    expect(departure(battery, 'b', 'battery.soc', 99, START + 4 * STEP)).toBeUndefined();
  });
});

describe('the states a stored plan expects', () => {
  const start = '2026-06-01T12:00:00Z';
  const document = {
    start, stepMinutes: 15, steps: 2,
    sites: [{ id: 'site-1', assets: [
      { id: 'battery-1', type: 'storage', powerW: [4000, 0], energyWh: [1000, 0], socWh: [6000, 6000] },
      { id: 'ev-1', type: 'ev', powerW: [0, 0], energyWh: [0, 0], socWh: [15000, 15000] },
      { id: 'ev-2', type: 'ev', powerW: [0, 0], energyWh: [0, 0], socWh: [null, 15000] },
      { id: 'heat-pump-1', type: 'heat-pump', powerW: [0, 0], energyWh: [0, 0], temperatureC: [49, 48] },
      { id: 'load', type: 'load', powerW: [300, 300], energyWh: [75, 75] },
    ] }],
  } as unknown as PlanDocument;
  const bind = (key: string, deviceId: string | null, controls: Binding['controls']): Binding =>
    ({ key, name: key, type: 'x', deviceId, controls, meteringPointId: null, memberId: null });
  const bindings = [
    bind('site-1/battery-1', 'bat', 'battery'), bind('site-1/ev-1', 'car', 'ev-charger'), bind('site-1/ev-2', 'later-car', 'ev-charger'),
    bind('site-1/heat-pump-1', 'hp', 'heat-pump'), bind('site-1/load', null, null),
  ];
  const scenario = {
    sites: [{ id: 'site-1', assets: [
      { id: 'battery-1', type: 'storage', capacityWh: 10_000, initialSoc: 0.5 },
      { id: 'ev-1', type: 'ev', capacityWh: 50_000, sessions: [{ arrival: '2026-06-01T12:00:00.000Z', socAtConnectionWh: 15_000 }] },
      { id: 'ev-2', type: 'ev', capacityWh: 50_000, sessions: [{ arrival: '2026-06-01T12:15:00.000Z', socAtConnectionWh: 15_000 }] },
      { id: 'heat-pump-1', type: 'heat-pump', initialTempC: 50 },
    ] }],
  };

  it('reads each controlled device\'s start from the scenario and its step ends from the plan', () => {
    const states = plannedStates(document, bindings, scenario);
    expect([...states.keys()].sort()).toEqual(['bat', 'car', 'hp', 'later-car']);
    expect(states.get('bat')).toEqual({ measure: 'soc', capacityWh: 10_000, startMs: Date.parse(start), stepMs: STEP, initial: 5_000, ends: [6000, 6000] });
    expect(states.get('car')).toMatchObject({ initial: 15_000, capacityWh: 50_000 });
    // A car that arrives later is not expected at the start.
    expect(states.get('later-car')).toMatchObject({ initial: null });
    expect(states.get('hp')).toMatchObject({ measure: 'temperature', initial: 50, ends: [49, 48] });
  });
});
