import { BadRequestError } from '../../kernel/errors.js';
import { DAY_MS, MINUTE_MS } from '../../kernel/time.js';
import type { LocalClock } from '../../kernel/calendar.js';

/**
 * Members' control settings, pure: which device kinds a plan can drive and as what asset, the
 * limits each kind takes (with defaults), their validation, and what a manual override means.
 */

/** Device kinds a plan can control, and the asset each becomes in the scenario. */
export const CONTROLLABLE_KINDS = {
  battery: 'storage',
  'ev-charger': 'ev',
  'heat-pump': 'heat-pump',
  'smart-plug': 'appliance',
  inverter: 'producer',
} as const;
export type ControllableKind = keyof typeof CONTROLLABLE_KINDS;

export const isControllableKind = (kind: string): kind is ControllableKind => Object.hasOwn(CONTROLLABLE_KINDS, kind);

export interface Limits {
  readonly reserveSoc?: number;
  readonly capacityWh?: number;
  readonly maxPowerW?: number;
  readonly readyBy?: string;
  readonly pluggedInFrom?: string;
  readonly minChargeWh?: number;
  readonly comfortMinC?: number;
  readonly comfortMaxC?: number;
  readonly windowStart?: string;
  readonly windowEnd?: string;
  readonly runPowerW?: readonly number[];
}

/** The limits each kind takes; any other is refused for that kind. */
const LIMIT_KEYS: Record<ControllableKind, readonly (keyof Limits)[]> = {
  battery: ['reserveSoc', 'capacityWh', 'maxPowerW'],
  'ev-charger': ['capacityWh', 'maxPowerW', 'readyBy', 'pluggedInFrom', 'minChargeWh'],
  'heat-pump': ['maxPowerW', 'comfortMinC', 'comfortMaxC'],
  'smart-plug': ['windowStart', 'windowEnd', 'runPowerW'],
  inverter: [],
};

/** A washing machine's run at 15 minutes: heating, washing, spinning (W per quarter hour). */
export const DEFAULT_RUN_W = [2000, 2000, 400, 400, 600, 300] as const;

export interface EvLimits { readonly capacityWh: number; readonly maxPowerW: number; readonly readyBy: string; readonly pluggedInFrom: string; readonly minChargeWh: number }
export interface HeatPumpLimits { readonly maxPowerW: number; readonly comfortMinC: number; readonly comfortMaxC: number }
export interface ApplianceLimits { readonly windowStart: string; readonly windowEnd: string; readonly runPowerW: readonly number[] }

export const evLimits = (limits: Limits): EvLimits => ({
  capacityWh: limits.capacityWh ?? 60_000, maxPowerW: limits.maxPowerW ?? 11_000, readyBy: limits.readyBy ?? '07:00',
  pluggedInFrom: limits.pluggedInFrom ?? '18:00', minChargeWh: limits.minChargeWh ?? 20_000,
});
export const heatPumpLimits = (limits: Limits): HeatPumpLimits => ({
  maxPowerW: limits.maxPowerW ?? 3_000, comfortMinC: limits.comfortMinC ?? 45, comfortMaxC: limits.comfortMaxC ?? 55,
});
export const applianceLimits = (limits: Limits): ApplianceLimits => ({
  windowStart: limits.windowStart ?? '00:00', windowEnd: limits.windowEnd ?? '00:00', runPowerW: limits.runPowerW ?? DEFAULT_RUN_W,
});

const clockMinute = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * Checks a member's limits for a device kind (the contract has checked each field's range):
 * fields of other kinds and inconsistent pairs are refused, naming the field.
 */
export function validateLimits(kind: string, limits: Limits): Limits {
  if (!isControllableKind(kind)) throw new BadRequestError(`body: a plan cannot control a device of kind ${kind}`, 'body');
  const allowed = LIMIT_KEYS[kind];
  for (const key of Object.keys(limits)) {
    if (!allowed.includes(key as keyof Limits)) {
      throw new BadRequestError(`body/limits/${key}: does not apply to a ${kind}${allowed.length ? ` (it takes ${allowed.join(', ')})` : ' (it takes no limits)'}`, `body/limits/${key}`);
    }
  }
  if (kind === 'heat-pump') {
    const { comfortMinC, comfortMaxC } = heatPumpLimits(limits);
    if (comfortMaxC - comfortMinC < 2) throw new BadRequestError('body/limits/comfortMaxC: must be at least 2 °C above comfortMinC', 'body/limits/comfortMaxC');
  }
  if (kind === 'ev-charger') {
    const ev = evLimits(limits);
    if (ev.minChargeWh > ev.capacityWh) throw new BadRequestError('body/limits/minChargeWh: more than the capacity', 'body/limits/minChargeWh');
    if (ev.readyBy === ev.pluggedInFrom) throw new BadRequestError('body/limits/readyBy: must differ from pluggedInFrom', 'body/limits/readyBy');
    // What full power can add while plugged in.
    const plugged = (clockMinute(ev.readyBy) - clockMinute(ev.pluggedInFrom) + 1440) % 1440;
    if ((ev.maxPowerW * 0.9 * plugged) / 60 < ev.minChargeWh) {
      throw new BadRequestError('body/limits/minChargeWh: cannot be charged between pluggedInFrom and readyBy at maxPowerW', 'body/limits/minChargeWh');
    }
  }
  if (kind === 'smart-plug') {
    const run = applianceLimits(limits);
    if (run.runPowerW.every((w) => w === 0)) throw new BadRequestError('body/limits/runPowerW: a run draws power', 'body/limits/runPowerW');
  }
  return limits;
}

/** Whether the device's member has overridden the plan at `atMs`. */
export const overridden = (overrideUntilMs: number | null, atMs: number): boolean => overrideUntilMs !== null && overrideUntilMs > atMs;

/** The first instant at or after `afterMs` whose local time is `hhmm`. */
export function nextLocalTime(clock: LocalClock, afterMs: number, hhmm: string): number {
  const day = clock.local(afterMs).day;
  for (let d = day - 1; d <= day + 2; d++) {
    const at = clock.toUtc(d * DAY_MS + clockMinute(hhmm) * MINUTE_MS);
    if (at >= afterMs) return at;
  }
  return afterMs;
}
