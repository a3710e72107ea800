import { describe, expect, it } from 'vitest';
import '../../src/optimise/domain/assets/index.js';
import { ScenarioError } from '../../src/optimise/domain/fields.js';
import { parseScenario } from '../../src/optimise/domain/scenario.js';
import { hour, oneSite } from './support.js';

/** Bad scenarios get an error naming the field; good ones are read exactly. */
function fieldError(raw: unknown): ScenarioError {
  try {
    parseScenario(raw);
  } catch (error) {
    if (error instanceof ScenarioError) return error;
    throw error;
  }
  throw new Error('expected a ScenarioError');
}

const load = { type: 'load', id: 'base', powerW: 500 };
const battery = { type: 'storage', id: 'bat', capacityWh: 5000, maxChargeW: 2000, maxDischargeW: 2000, initialSoc: 0.5 };

describe('scenario checks', () => {
  it.each([
    ['not an object', [], '', /the scenario must be an object/],
    ['a missing start', { ...oneSite(4, [load]), start: undefined }, 'start', /UTC instant/],
    ['a local time', { ...oneSite(4, [load]), start: '2026-06-01T02:00:00+02:00' }, 'start', /UTC instant/],
    ['a start off the step grid', { ...oneSite(4, [load]), start: '2026-06-01T00:07:00Z' }, 'start', /60-minute UTC grid/],
    ['too many steps', { ...oneSite(4, [load]), steps: 100_000 }, 'steps', /from 1 to 672/],
    ['an odd step length', { ...oneSite(4, [load]), stepMinutes: 10 }, 'stepMinutes', /one of 15, 30, 60/],
    ['an unknown zone', { ...oneSite(4, [load]), timeZone: 'Mars/Olympus' }, 'timeZone', /IANA/],
    ['a misspelt top-level field', { ...oneSite(4, [load]), objectives: 'cost' }, 'objectives', /unknown field/],
    ['no sites', { ...oneSite(4, [load]), sites: [] }, 'sites', /at least 1/],
    ['an unknown asset type', oneSite(4, [{ type: 'nuclear', id: 'x' }]), 'sites[0].assets[0].type', /one of load, producer, storage, ev, appliance, heat-pump/],
    ['a negative capacity', oneSite(4, [load, { ...battery, capacityWh: -5 }]), 'sites[0].assets[1].capacityWh', /greater than 0/],
    ['a capacity given as text', oneSite(4, [load, { ...battery, capacityWh: '5000' }]), 'sites[0].assets[1].capacityWh', /finite number/],
    ['a SoC above 1', oneSite(4, [{ ...battery, initialSoc: 1.5 }]), 'sites[0].assets[0].initialSoc', /at most 1/],
    ['a misspelt asset field', oneSite(4, [{ ...battery, capacityKwh: 5 }]), 'sites[0].assets[0].capacityKwh', /unknown field/],
    ['a series of the wrong length', oneSite(4, [{ ...load, powerW: [1, 2, 3] }]), 'sites[0].assets[0].powerW', /one value per step \(4\), found 3/],
    ['NaN in a series', oneSite(4, [{ ...load, powerW: [1, 2, Number.NaN, 4] }]), 'sites[0].assets[0].powerW[2]', /finite number/],
    ['Infinity as a power', oneSite(4, [{ ...load, powerW: Number.POSITIVE_INFINITY }]), 'sites[0].assets[0].powerW', /finite number/],
    ['a price with 7 decimals', oneSite(4, [load], { importPrice: '0.1234567' }), 'sites[0].grid.importPrice', /at most 6 decimals/],
    ['a price in exponent form', oneSite(4, [load], { importPrice: 1e-7 }), 'sites[0].grid.importPrice', /at most 6 decimals/],
    ['a time of use period at 25:00', oneSite(4, [load], { importPrice: { default: 0.3, periods: [{ from: '22:00', to: '25:00', price: 0.1 }] } }), 'sites[0].grid.importPrice.periods[0].to', /local time/],
    ['a weekday that is not one', oneSite(4, [load], { importPrice: { default: 0.3, periods: [{ from: '22:00', to: '06:00', days: ['mon', 'funday'], price: 0.1 }] } }), 'sites[0].grid.importPrice.periods[0].days[1]', /one of sun/],
    ['an id LP files cannot hold', oneSite(4, [{ ...load, id: '1st load' }]), 'sites[0].assets[0].id', /starting with a letter/],
    ['two assets that are one in the LP file', oneSite(4, [{ ...load, id: 'a-b' }, { ...load, id: 'a_b' }]), 'sites[0].assets[1].id', /used by another asset/],
    ['an asset called grid', oneSite(4, [{ ...load, id: 'grid' }]), 'sites[0].assets[0].id', /names the connection/],
    ['an EV leaving before it arrives', oneSite(4, [{ type: 'ev', id: 'car', capacityWh: 50000, maxPowerW: 11000, sessions: [{ arrival: hour(3), departure: hour(2), socAtConnectionWh: 0, energyNeededWh: 0 }] }]), 'sites[0].assets[0].sessions[0].departure', /after arrival/],
    ['an EV minimum above its maximum', oneSite(4, [{ type: 'ev', id: 'car', capacityWh: 50000, maxPowerW: 3000, minPowerW: 4000, sessions: [] }]), 'sites[0].assets[0].minPowerW', /at most 3000/],
    ['an appliance profile longer than the horizon', oneSite(2, [{ type: 'appliance', id: 'wm', profileW: [1, 2, 3] }]), 'sites[0].assets[0].profileW', /at most 2 entries/],
    ['a heat pump tank that loses more than it holds', oneSite(4, [{ type: 'heat-pump', id: 'hp', maxElectricW: 2000, cop: 3, tankVolumeL: 10, tempMinC: 40, tempMaxC: 50, initialTempC: 45, heatDemandW: 0, lossWPerK: 50 }]), 'sites[0].assets[0].lossWPerK', /loses more heat/],
    ['an objective that weighs nothing', { ...oneSite(4, [load]), objective: { cost: 0 } }, 'objective', /at least one weight/],
    ['an unknown objective', { ...oneSite(4, [load]), objective: 'happiness' }, 'objective', /one of cost, co2/],
    ['a negative time limit', { ...oneSite(4, [load]), solver: { timeLimitS: -1 } }, 'solver.timeLimitS', /greater than 0/],
  ])('refuses %s, naming the field', (_what, raw, path, message) => {
    const error = fieldError(raw);
    expect(error.path).toBe(path);
    expect(error.message).toMatch(message);
    expect(error.code).toBe('bad_request');
  });

  it('refuses two sites whose ids are one in the LP file', () => {
    const raw = { ...oneSite(4, [load]), sites: [{ id: 'house-1', assets: [load] }, { id: 'house_1', assets: [load] }] };
    expect(fieldError(raw).path).toBe('sites[1].id');
  });

  it('reads time-of-use prices in the community\'s local time, across midnight and by weekday', () => {
    // 2026-06-01 is a Monday; Vienna is UTC+2 in June. Steps of 1 h from 20:00 UTC = 22:00 local.
    const raw = {
      ...oneSite(6, [load], {
        importPrice: { default: '0.30', periods: [{ from: '23:00', to: '01:00', days: ['mon'], price: '0.10' }, { from: '01:00', to: '02:00', price: 0.2 }] },
      }),
      start: '2026-06-01T20:00:00Z',
      timeZone: 'Europe/Vienna',
    };
    const scenario = parseScenario(raw);
    // 22:00 default, 23:00 Monday night, 00:00 still Monday's night period, 01:00, 02:00, 03:00.
    expect(scenario.sites[0]!.connection.importPrice).toEqual([300000n, 100000n, 100000n, 200000n, 300000n, 300000n]);
  });

  it('takes constants, arrays and decimal strings for prices exactly', () => {
    const scenario = parseScenario(oneSite(2, [load], { importPrice: ['0.123456', 0.1], exportPrice: '-0.05' }));
    expect(scenario.sites[0]!.connection.importPrice).toEqual([123456n, 100000n]);
    expect(scenario.sites[0]!.connection.exportPrice).toEqual([-50000n, -50000n]);
  });
});
