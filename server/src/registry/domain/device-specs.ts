import { BadRequestError } from '../../kernel/errors.js';
import { chargerMinPowerW, type DeviceKind, type DeviceSpecs } from '@gridshare/contract/registry';

/**
 * Pure: a device's technical data (what its datasheet says), by kind. The contract checks each
 * field's range and that powers and energies are whole W and Wh; here a field of another kind and
 * inconsistent pairs are refused, naming the field. Planning (optimise) uses them before its
 * defaults; a member's control limits may only narrow them.
 */
/** Battery: capacityWh, maxChargeW, maxDischargeW, roundTripEfficiency; EV charger: maxPowerW, minPowerW, phases; heat pump: cop,
 * maxElectricW, tankLitres, tankLossWPerK; appliance on a smart plug: runProfileW (W per quarter hour). */
export type { DeviceSpecs };

export const SPEC_KEYS: Readonly<Record<DeviceKind, readonly (keyof DeviceSpecs)[]>> = {
  battery: ['capacityWh', 'maxChargeW', 'maxDischargeW', 'roundTripEfficiency'],
  'ev-charger': ['maxPowerW', 'minPowerW', 'phases'],
  'heat-pump': ['cop', 'maxElectricW', 'tankLitres', 'tankLossWPerK'],
  'smart-plug': ['runProfileW'],
  inverter: [],
  'meter-reader': [],
};

const refuse = (key: string, why: string): never => {
  throw new BadRequestError(`body/${key}: ${why}`, `body/${key}`);
};

export function validateSpecs(kind: DeviceKind, specs: DeviceSpecs): DeviceSpecs {
  const allowed = SPEC_KEYS[kind];
  for (const key of Object.keys(specs)) {
    if (!allowed.includes(key as keyof DeviceSpecs)) {
      refuse(key, `is not technical data of a ${kind}${allowed.length ? ` (it takes ${allowed.join(', ')})` : ' (it takes none)'}`);
    }
  }
  if (kind === 'ev-charger') {
    const min = chargerMinPowerW(specs);
    if (specs.phases !== undefined && specs.phases !== 1 && specs.phases !== 3) refuse('phases', 'must be 1 or 3');
    if (min !== undefined && specs.maxPowerW !== undefined && min > specs.maxPowerW) {
      refuse(specs.minPowerW === undefined ? 'phases' : 'minPowerW', `the least charging power (${min} W) is above maxPowerW (${specs.maxPowerW} W)`);
    }
  }
  if (kind === 'smart-plug' && specs.runProfileW !== undefined && specs.runProfileW.every((w) => w === 0)) refuse('runProfileW', 'a run draws power');
  return specs;
}
