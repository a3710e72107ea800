import { describe, expect, it } from 'vitest';
import { DEMO_MODELS, newDevice, receive, step, type ReceivedCommand } from '../../src/simulator/index.js';

const T0 = Date.UTC(2026, 4, 4, 12);
const MIN = 60_000;
const cmd = (over: Partial<ReceivedCommand>): ReceivedCommand => ({
  id: 'c1', kind: 'battery-power', value: 2_000, validFromMs: T0, expiresAtMs: T0 + 15 * MIN, issuedAtMs: T0, ...over,
});
const power = (readings: { quantity: string; value: number }[], quantity: string) => readings.find((r) => r.quantity === quantity)?.value;

describe('simulated devices that follow commands', () => {
  it('a battery rests without a command, follows its setpoint within its limits, and stops at expiry', () => {
    let battery = newDevice(DEMO_MODELS.battery);
    expect(step(battery, T0, MIN).powerW).toBe(0);
    battery = receive(battery, cmd({ value: 9_000 }), T0).device;
    const charging = step(battery, T0, 15 * MIN);
    expect(charging.powerW).toBe(5_000);
    expect(power(charging.readings, 'battery.power.charge')).toBe(5_000);
    expect(power(charging.readings, 'battery.soc')).toBe(62.5);
    expect(step(charging.device, T0 + 15 * MIN, MIN).powerW).toBe(0);
    const discharging = step(receive(battery, cmd({ id: 'c2', value: -3_000, issuedAtMs: T0 + 1 }), T0).device, T0, MIN);
    expect(power(discharging.readings, 'battery.power.discharge')).toBe(3_000);
  });

  it('takes a command once, refuses expired ones and never lets an older one replace a newer', () => {
    const battery = receive(newDevice(DEMO_MODELS.battery), cmd({ id: 'new', value: 1_000, issuedAtMs: T0 + MIN }), T0).device;
    expect(receive(battery, cmd({ id: 'new', value: 1_000, issuedAtMs: T0 + MIN }), T0)).toEqual({ device: battery, answer: { result: 'acknowledged' } });
    expect(receive(battery, cmd({ id: 'old', value: 4_000 }), T0).answer).toEqual({ result: 'rejected', reason: 'a newer command of this kind applies' });
    expect(receive(battery, cmd({ id: 'late', issuedAtMs: T0 + 2 * MIN }), T0 + 15 * MIN).answer.result).toBe('rejected');
    expect(receive(battery, cmd({ id: 'ev', kind: 'ev-charge-power' }), T0).answer.result).toBe('rejected');
    expect(step(battery, T0, MIN).powerW).toBe(1_000);
    // A plan's next steps, issued together, each apply in their own quarter hour.
    const stepped = receive(battery, cmd({ id: 'step2', value: -2_000, issuedAtMs: T0 + MIN, validFromMs: T0 + 15 * MIN, expiresAtMs: T0 + 30 * MIN }), T0).device;
    expect(step(stepped, T0, MIN).powerW).toBe(1_000);
    expect(step(stepped, T0 + 15 * MIN, MIN).powerW).toBe(-2_000);
  });

  it('an EV charger charges at full power unless capped; a heat pump blocked keeps its tank above the minimum', () => {
    const ev = newDevice(DEMO_MODELS['ev-charger']);
    expect(step(ev, T0, MIN).powerW).toBe(11_000);
    expect(step(receive(ev, cmd({ kind: 'ev-charge-power', value: 3_700 }), T0).device, T0, MIN).powerW).toBe(3_700);
    const cold = newDevice({ ...DEMO_MODELS['heat-pump'], tankC: 45 });
    expect(step(cold, T0, MIN).powerW).toBe(0);
    const blocked = receive(newDevice({ ...DEMO_MODELS['heat-pump'], tankC: 41.5 }), cmd({ kind: 'heat-pump-block', value: null }), T0).device;
    expect(step(blocked, T0, MIN).powerW).toBe(0);
    const chilly = receive(newDevice({ ...DEMO_MODELS['heat-pump'], tankC: 39 }), cmd({ kind: 'heat-pump-block', value: null }), T0).device;
    expect(step(chilly, T0, MIN).powerW).toBe(3_000);
  });

  it('a washing machine runs its program once from the start it is given', () => {
    let washer = receive(newDevice(DEMO_MODELS['washing-machine']), cmd({ kind: 'appliance-start', value: null, validFromMs: T0 + 10 * MIN, expiresAtMs: T0 + 200 * MIN }), T0).device;
    const drawn: number[] = [];
    for (let t = T0; t < T0 + 100 * MIN; t += 10 * MIN) {
      const result = step(washer, t, 10 * MIN);
      washer = result.device;
      drawn.push(result.powerW);
    }
    expect(drawn).toEqual([0, 2_000, 2_000, 300, 300, 300, 600, 150, 0, 0]);
  });
});
