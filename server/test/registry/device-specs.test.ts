import { describe, expect, it } from 'vitest';
import { validateSpecs } from '../../src/registry/domain/device-specs.js';

/** A device's technical data is checked for its kind before it is stored (the contract checks ranges and whole W/Wh). */
describe('device technical data', () => {
  it('refuses technical data of another kind and inconsistent values, naming the field', () => {
    expect(() => validateSpecs('battery', { cop: 3 })).toThrow(/body\/cop: is not technical data of a battery/);
    expect(() => validateSpecs('meter-reader', { capacityWh: 1000 })).toThrow(/takes none/);
    expect(() => validateSpecs('ev-charger', { phases: 2 })).toThrow(/body\/phases: must be 1 or 3/);
    expect(() => validateSpecs('ev-charger', { maxPowerW: 3000, phases: 3 })).toThrow(/body\/phases: the least charging power \(4140 W\) is above maxPowerW/);
    expect(() => validateSpecs('ev-charger', { maxPowerW: 3000, minPowerW: 3500 })).toThrow(/body\/minPowerW/);
    expect(() => validateSpecs('smart-plug', { runProfileW: [0, 0] })).toThrow(/body\/runProfileW: a run draws power/);
    expect(validateSpecs('ev-charger', { maxPowerW: 11_000, phases: 3 })).toEqual({ maxPowerW: 11_000, phases: 3 });
  });
});
