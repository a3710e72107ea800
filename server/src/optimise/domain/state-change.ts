import type { Quantity } from '../../kernel/quantities.js';
import type { Binding } from './assemble.js';
import { boundAssets } from './device-commands.js';
import type { PlanDocument } from './plan.js';

/**
 * Whether a device's reported state departs from what the community's plan expected of it, pure:
 * a battery's or an EV's state of charge by more than SOC_DEPARTURE (a share of its capacity), a
 * heat pump's tank by more than TEMPERATURE_DEPARTURE_K. The plan holds each state at the end of
 * every step and its power is constant within a step, so between two step ends the state moves in a
 * straight line; before the horizon starts the plan expects the state it started from. Where the
 * plan expects nothing (an EV it does not see connected, a time past its horizon) nothing departs.
 */

/** 10 percentage points of the capacity. */
export const SOC_DEPARTURE = 0.1;
export const TEMPERATURE_DEPARTURE_K = 3;

/** What each kind of device reports of its state (kernel/quantities): % of its capacity, or °C of its tank. */
export const STATE_QUANTITY = { battery: 'battery.soc', 'ev-charger': 'ev.soc', 'heat-pump': 'heat-pump.tank-temperature' } as const satisfies Record<string, Quantity>;
export type StateQuantity = (typeof STATE_QUANTITY)[keyof typeof STATE_QUANTITY];

const STATE_QUANTITIES: ReadonlySet<string> = new Set(Object.values(STATE_QUANTITY));
export const isStateQuantity = (quantity: string): quantity is StateQuantity => STATE_QUANTITIES.has(quantity);
const measureOf = (quantity: StateQuantity): PlannedState['measure'] => (quantity === STATE_QUANTITY['heat-pump'] ? 'temperature' : 'soc');

/** A device's state along a plan: at the horizon's start, then at the end of each step (null where unknown). */
export interface PlannedState {
  readonly measure: 'soc' | 'temperature';
  /** Wh of state of charge for `soc`. */
  readonly capacityWh: number | null;
  readonly startMs: number;
  readonly stepMs: number;
  readonly initial: number | null;
  readonly ends: readonly (number | null)[];
}

interface RawAsset {
  readonly id?: unknown;
  readonly capacityWh?: unknown;
  readonly initialSoc?: unknown;
  readonly initialTempC?: unknown;
  readonly sessions?: readonly { readonly arrival?: unknown; readonly socAtConnectionWh?: unknown }[];
}

/** The scenario's asset behind a binding key ("site-1/ev-1", "community/battery-1"). */
function scenarioAsset(scenario: Record<string, unknown>, key: string): RawAsset | undefined {
  const slash = key.indexOf('/');
  const [siteId, assetId] = [key.slice(0, slash), key.slice(slash + 1)];
  const assets = siteId === 'community'
    ? (scenario.community as { assets?: readonly RawAsset[] } | undefined)?.assets
    : (scenario.sites as readonly { id: string; assets?: readonly RawAsset[] }[] | undefined)?.find((s) => s.id === siteId)?.assets;
  return assets?.find((a) => a.id === assetId);
}

const numberOr = (value: unknown, fallback: number | null): number | null => (typeof value === 'number' ? value : fallback);

/** The states a plan expects of the devices it controls, by device. */
export function plannedStates(document: PlanDocument, bindings: readonly Binding[], scenario: Record<string, unknown>): Map<string, PlannedState> {
  const startMs = Date.parse(document.start);
  const stepMs = document.stepMinutes * 60_000;
  const states = new Map<string, PlannedState>();
  for (const { binding, asset } of boundAssets(document, bindings)) {
    if (!binding.deviceId || !binding.controls) continue;
    const raw = scenarioAsset(scenario, binding.key);
    if (!raw) continue;
    const common = { startMs, stepMs };
    if ((binding.controls === 'battery' || binding.controls === 'ev-charger') && asset.socWh) {
      const capacityWh = numberOr(raw.capacityWh, null);
      const initialSoc = numberOr(raw.initialSoc, null);
      // An EV is expected at the start only when its first session begins there.
      const first = raw.sessions?.[0];
      const initial = binding.controls === 'battery'
        ? (capacityWh !== null && initialSoc !== null ? initialSoc * capacityWh : null)
        : first && typeof first.arrival === 'string' && Date.parse(first.arrival) === startMs ? numberOr(first.socAtConnectionWh, null) : null;
      states.set(binding.deviceId, { ...common, measure: 'soc', capacityWh, initial, ends: asset.socWh });
    } else if (binding.controls === 'heat-pump' && asset.temperatureC) {
      states.set(binding.deviceId, { ...common, measure: 'temperature', capacityWh: null, initial: numberOr(raw.initialTempC, null), ends: asset.temperatureC });
    }
  }
  return states;
}

/** What the plan expects at `atMs` (Wh or °C), or undefined. */
export function expectedAt(state: PlannedState, atMs: number): number | undefined {
  if (atMs <= state.startMs) return state.initial ?? undefined;
  const position = (atMs - state.startMs) / state.stepMs;
  const step = Math.floor(position);
  if (step >= state.ends.length) return undefined;
  const before = step === 0 ? state.initial : state.ends[step - 1] ?? null;
  const after = state.ends[step] ?? null;
  if (before === null || after === null) return before ?? after ?? undefined;
  return before + (after - before) * (position - step);
}

export interface Departure {
  readonly deviceId: string;
  readonly quantity: StateQuantity;
  readonly measured: number;
  readonly expected: number;
  readonly atMs: number;
}

/**
 * The departure of a reported state from the plan, in the quantity's unit (% for a state of charge,
 * °C for a tank), when it is beyond the threshold; else undefined.
 */
export function departure(state: PlannedState, deviceId: string, quantity: StateQuantity, value: number, atMs: number): Departure | undefined {
  if (measureOf(quantity) !== state.measure) return undefined;
  const expected = expectedAt(state, atMs);
  if (expected === undefined) return undefined;
  if (state.measure === 'temperature') {
    return Math.abs(value - expected) > TEMPERATURE_DEPARTURE_K ? { deviceId, quantity, measured: value, expected, atMs } : undefined;
  }
  if (!state.capacityWh) return undefined;
  // Compared in Wh (a percentage of 55 is not exactly 5500/10000 × 100 in floating point).
  const departs = Math.abs((value / 100) * state.capacityWh - expected) > SOC_DEPARTURE * state.capacityWh;
  return departs ? { deviceId, quantity, measured: value, expected: Math.round((expected / state.capacityWh) * 10_000) / 100, atMs } : undefined;
}
