import type { CommandKind } from '@gridshare/contract/control';
import { fail, finite, secondsUntil, type LocalDevice } from '../local-devices.js';

/**
 * `modbus-sunspec` as a command target: the connectors' SunSpec controls (model 704, else 123
 * `WMaxLimPct`; storage model 124) from control's watts. `pv-limit` W becomes a percentage of
 * the inverter's `ratedW`; `battery-power` W a charge (+) or discharge (−) rate in % of
 * `maxChargeW` / `maxDischargeW` (the other direction held at 0). Every write carries the
 * device's revert timer set to the command's expiry, so the device returns to its own behaviour
 * when a command runs out even if the agent is gone. The safe state (`"safeState": "release"`)
 * lifts the limits the agent set: the inverter at full power, the battery under its own control
 * (self-consumption).
 */
export type SunSpecControl =
  | { readonly type: 'power-limit'; readonly percent: number | null; readonly revertAfterS?: number | undefined }
  | { readonly type: 'battery'; readonly chargePercent: number | null; readonly dischargePercent: number | null; readonly revertAfterS?: number | undefined };

export interface SunSpecSetup {
  readonly pvRatedW: number | undefined;
  readonly battery: { readonly maxChargeW: number; readonly maxDischargeW: number } | undefined;
  readonly release: boolean;
}

/** The longest revert timer model 123 and 124 hold (uint16 seconds). */
const MAX_REVERT_S = 65_534;
const SUPPORTED: readonly CommandKind[] = ['pv-limit', 'battery-power'];

const positive = (value: unknown, path: string): number => {
  const n = finite(value, path);
  if (n <= 0) fail(path, 'must be above 0 W');
  return n;
};

export function sunspecSetup(device: LocalDevice, path: string): SunSpecSetup {
  for (const kind of Object.keys(device.setpoints)) {
    if (!(SUPPORTED as readonly string[]).includes(kind)) fail(`${path}/setpoints/${kind}`, `a SunSpec device takes ${SUPPORTED.join(' and ')} only`);
  }
  const pv = device.setpoints['pv-limit']?.spec;
  const battery = device.setpoints['battery-power']?.spec;
  if (device.safeState !== undefined && device.safeState !== 'release') fail(`${path}/safeState`, 'must be "release" (limits lifted) or absent');
  return {
    pvRatedW: pv === undefined ? undefined : positive(pv.ratedW, `${path}/setpoints/pv-limit/ratedW`),
    battery: battery === undefined ? undefined : {
      maxChargeW: positive(battery.maxChargeW, `${path}/setpoints/battery-power/maxChargeW`),
      maxDischargeW: positive(battery.maxDischargeW, `${path}/setpoints/battery-power/maxDischargeW`),
    },
    release: device.safeState === 'release',
  };
}

/** Percent of `of`, within 0–100, to a tenth (what a scale factor of −1 holds). */
const percentOf = (watts: number, of: number) => Math.round(Math.min(100, Math.max(0, (watts / of) * 100)) * 10) / 10;

/** The SunSpec command for a set-point, its revert timer at the command's expiry. */
export function sunspecControl(setup: SunSpecSetup, kind: CommandKind, value: number, expiresAtMs: number, nowMs: number): SunSpecControl {
  const revertAfterS = secondsUntil(expiresAtMs, nowMs, MAX_REVERT_S);
  if (kind === 'pv-limit' && setup.pvRatedW !== undefined) return { type: 'power-limit', percent: percentOf(value, setup.pvRatedW), revertAfterS };
  if (kind === 'battery-power' && setup.battery !== undefined) {
    return value >= 0
      ? { type: 'battery', chargePercent: percentOf(value, setup.battery.maxChargeW), dischargePercent: 0, revertAfterS }
      : { type: 'battery', chargePercent: 0, dischargePercent: percentOf(-value, setup.battery.maxDischargeW), revertAfterS };
  }
  throw new Error(`${kind} is not set up on this SunSpec device`);
}

/** The writes of the safe state: every limit the agent can set, lifted. */
export function sunspecRelease(setup: SunSpecSetup): SunSpecControl[] {
  if (!setup.release) return [];
  return [
    ...(setup.pvRatedW !== undefined ? [{ type: 'power-limit', percent: null } as const] : []),
    ...(setup.battery !== undefined ? [{ type: 'battery', chargePercent: null, dischargePercent: null } as const] : []),
  ];
}
