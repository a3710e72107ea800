/**
 * Simulated devices that follow commands (issue 15): a home battery, an EV charger, a heat pump
 * with a hot-water tank and a washing machine on a smart plug. Pure: a device is plain state, a
 * command is taken or refused by `receive`, and `step` advances it over an interval and says what
 * it reports, so plan → command → device → readings can be followed in the demo and in tests.
 */

import type { PlanCommandKind as CommandKind } from '../../kernel/events.js';

/** A command as the device is given it (times in epoch ms). */
export interface ReceivedCommand {
  readonly id: string;
  readonly kind: CommandKind;
  readonly value: number | null;
  readonly validFromMs: number;
  readonly expiresAtMs: number;
  readonly issuedAtMs: number;
}

export type DeviceModel =
  | { readonly type: 'battery'; readonly capacityWh: number; readonly maxPowerW: number; readonly socWh: number }
  | { readonly type: 'ev-charger'; readonly maxPowerW: number; readonly neededWh: number }
  | { readonly type: 'heat-pump'; readonly maxPowerW: number; readonly cop: number; readonly tankC: number; readonly minC: number; readonly maxC: number; readonly tankWhPerK: number; readonly lossW: number; readonly heating: boolean }
  | { readonly type: 'washing-machine'; readonly profileW: readonly number[]; readonly stepMs: number; readonly startedAtMs: number | null };

export interface ControlledDevice {
  readonly model: DeviceModel;
  /** Commands taken (the newest per kind applies between its valid-from and expiry). */
  readonly commands: readonly ReceivedCommand[];
}

export interface Reading {
  readonly quantity: string;
  readonly value: number;
  readonly unit: string;
}

/** The command kinds each model follows. */
export const MODEL_KINDS: Readonly<Record<DeviceModel['type'], readonly CommandKind[]>> = {
  battery: ['battery-power'],
  'ev-charger': ['ev-charge-power'],
  'heat-pump': ['heat-pump-power', 'heat-pump-block'],
  'washing-machine': ['appliance-start'],
};

/**
 * A device as it starts. It reports power and state of charge, not energy registers: a register
 * that started again at 0 with every run of the demo would go backwards.
 */
export const newDevice = (model: DeviceModel): ControlledDevice => ({ model, commands: [] });

/**
 * The device is given a command: the same id again changes nothing (it applies once), an expired
 * one or one of a kind it does not take is refused, and one older than a command of the same kind
 * it already has is ignored (a superseded command never replaces its successor).
 */
export function receive(device: ControlledDevice, command: ReceivedCommand, nowMs: number): { device: ControlledDevice; answer: { result: 'acknowledged' | 'rejected'; reason?: string } } {
  if (device.commands.some((c) => c.id === command.id)) return { device, answer: { result: 'acknowledged' } };
  if (nowMs >= command.expiresAtMs) return { device, answer: { result: 'rejected', reason: 'expired before it arrived' } };
  if (!MODEL_KINDS[device.model.type].includes(command.kind)) return { device, answer: { result: 'rejected', reason: `a ${device.model.type} does not take ${command.kind}` } };
  const newer = device.commands.some((c) => c.kind === command.kind && c.issuedAtMs > command.issuedAtMs);
  if (newer) return { device, answer: { result: 'rejected', reason: 'a newer command of this kind applies' } };
  // A newer issue replaces the older one of its kind (a plan's steps, issued together, stay side by side); what has expired is forgotten.
  const commands = [...device.commands.filter((c) => c.expiresAtMs > nowMs && !(c.kind === command.kind && c.issuedAtMs < command.issuedAtMs)), command];
  return { device: { ...device, commands }, answer: { result: 'acknowledged' } };
}

/** The command of a kind in force at `atMs`: the newest issued whose window holds it. */
const inForce = (device: ControlledDevice, kind: CommandKind, atMs: number): ReceivedCommand | undefined =>
  device.commands.filter((c) => c.kind === kind && c.validFromMs <= atMs && atMs < c.expiresAtMs)
    .reduce<ReceivedCommand | undefined>((best, c) => (best && best.issuedAtMs >= c.issuedAtMs ? best : c), undefined);

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** Advances the device from `fromMs` by `dtMs`: its power (W, + drawn from the grid side) over the interval, new state and readings. */
export function step(device: ControlledDevice, fromMs: number, dtMs: number): { device: ControlledDevice; powerW: number; readings: Reading[] } {
  const hours = dtMs / 3_600_000;
  const model = device.model;
  switch (model.type) {
    case 'battery': {
      // Without a command the battery rests; with one it follows the setpoint within its power and SoC.
      const setpoint = inForce(device, 'battery-power', fromMs)?.value ?? 0;
      const roomW = (model.capacityWh - model.socWh) / hours;
      const availableW = model.socWh / hours;
      const powerW = Math.round(clamp(setpoint, -Math.min(model.maxPowerW, availableW), Math.min(model.maxPowerW, roomW)));
      const socWh = clamp(model.socWh + powerW * hours, 0, model.capacityWh);
      return {
        device: { ...device, model: { ...model, socWh } }, powerW,
        readings: [
          { quantity: 'battery.soc', value: Math.round((socWh / model.capacityWh) * 1_000) / 10, unit: '%' },
          { quantity: 'battery.power.charge', value: Math.max(0, powerW), unit: 'W' },
          { quantity: 'battery.power.discharge', value: Math.max(0, -powerW), unit: 'W' },
        ],
      };
    }
    case 'ev-charger': {
      // Uncontrolled it charges at full power until the car has what it needs; a command caps the power.
      const cap = inForce(device, 'ev-charge-power', fromMs)?.value ?? model.maxPowerW;
      const powerW = Math.round(clamp(Math.min(cap, model.neededWh / hours), 0, model.maxPowerW));
      return withPower({ ...device, model: { ...model, neededWh: Math.max(0, model.neededWh - powerW * hours) } }, powerW);
    }
    case 'heat-pump': {
      // A thermostat between minC and maxC; a block stops it unless the tank falls below minC
      // (comfort wins), a power command caps it.
      const blocked = inForce(device, 'heat-pump-block', fromMs) !== undefined;
      const cap = inForce(device, 'heat-pump-power', fromMs)?.value ?? model.maxPowerW;
      const heating = model.tankC < model.minC || (!blocked && (model.heating ? model.tankC < model.maxC : model.tankC < model.minC + 2));
      const powerW = heating ? Math.round(clamp(cap, 0, model.maxPowerW)) : 0;
      const heatWh = powerW * model.cop * hours;
      const tankC = model.tankC + (heatWh - model.lossW * hours) / model.tankWhPerK;
      return withPower({ ...device, model: { ...model, tankC, heating: powerW > 0 } }, powerW);
    }
    case 'washing-machine': {
      // Starts its program when an appliance-start comes into force, runs it once to the end.
      const start = inForce(device, 'appliance-start', fromMs);
      const startedAtMs = model.startedAtMs !== null && fromMs < model.startedAtMs + model.profileW.length * model.stepMs ? model.startedAtMs
        : start && start.validFromMs !== model.startedAtMs ? start.validFromMs : model.startedAtMs;
      const index = startedAtMs === null ? -1 : Math.floor((fromMs - startedAtMs) / model.stepMs);
      const powerW = index >= 0 && index < model.profileW.length ? model.profileW[index]! : 0;
      return withPower({ ...device, model: { ...model, startedAtMs } }, powerW);
    }
  }
}

const withPower = (device: ControlledDevice, powerW: number) => ({ device, powerW, readings: [{ quantity: 'power.import', value: powerW, unit: 'W' }] });

/** The four devices of the demo household, in a plausible state. */
type ModelOf<T extends DeviceModel['type']> = Extract<DeviceModel, { type: T }>;
export const DEMO_MODELS: { readonly [T in 'battery' | 'ev-charger' | 'heat-pump' | 'washing-machine']: ModelOf<T> } = {
  battery: { type: 'battery', capacityWh: 10_000, maxPowerW: 5_000, socWh: 5_000 },
  'ev-charger': { type: 'ev-charger', maxPowerW: 11_000, neededWh: 30_000 },
  'heat-pump': { type: 'heat-pump', maxPowerW: 3_000, cop: 3, tankC: 48, minC: 40, maxC: 55, tankWhPerK: 350, lossW: 400, heating: false },
  'washing-machine': { type: 'washing-machine', profileW: [2_000, 2_000, 300, 300, 300, 600, 150], stepMs: 10 * 60_000, startedAtMs: null },
};
