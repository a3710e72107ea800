import { boolean, number, optionalNumber, ScenarioError, series, join } from '../fields.js';
import type { Terms } from '../model.js';
import { registerAsset, stepWh, type AssetSteps, type Infeasibility } from './registry.js';

/**
 * A heat pump charging a thermal store (a hot-water tank). Tank temperature at the end of step t:
 *   C·(T[t] − T[t−1]) = Δt·(COP[t]·p[t] − demand[t] − UA·(T[t−1] − ambient[t]))
 * with C = volume × heat capacity, the electric power p within [min, max] while running, and
 * T within its bounds. A minimum running power, a start cost or a minimum run time make the
 * on/off state a binary per step (big-M: the maximum power); starts are counted as
 * start[t] ≥ on[t] − on[t−1], continuous because the binaries already make them whole.
 */
registerAsset({
  type: 'heat-pump',
  summary: 'heat pump with a hot-water tank: COP, max/min electric power, starts, tank bounds, losses, heat demand',
  fields: ['maxElectricW', 'minElectricW', 'cop', 'tankVolumeL', 'heatCapacityWhPerLK', 'tempMinC', 'tempMaxC', 'initialTempC', 'terminalTempC', 'lossWPerK', 'ambientC', 'heatDemandW', 'startCost', 'minRunSteps', 'initiallyOn'],
  parse(fields, path, id, horizon) {
    const T = horizon.steps;
    const dt = horizon.stepHours;
    const maxKw = number(fields, 'maxElectricW', path, { above: 0, max: 1e7 }) / 1000;
    const minKw = number(fields, 'minElectricW', path, { min: 0, max: maxKw * 1000, default: 0 }) / 1000;
    const cop = series(fields, 'cop', path, horizon, { above: 0, max: 20 });
    const volume = number(fields, 'tankVolumeL', path, { above: 0, max: 1e7 });
    const capacityKwhPerK = (volume * number(fields, 'heatCapacityWhPerLK', path, { above: 0, max: 10, default: 1.163 })) / 1000;
    const tempMin = number(fields, 'tempMinC', path, { min: -50, max: 150 });
    const tempMax = number(fields, 'tempMaxC', path, { min: tempMin, max: 150 });
    const initial = number(fields, 'initialTempC', path, { min: -50, max: 150 });
    const terminal = optionalNumber(fields, 'terminalTempC', path, { min: -50, max: tempMax }) ?? Math.min(initial, tempMax);
    const uaKw = number(fields, 'lossWPerK', path, { min: 0, max: 1e6, default: 0 }) / 1000;
    if (uaKw * dt >= capacityKwhPerK) throw new ScenarioError(join(path, 'lossWPerK'), 'loses more heat per step than the tank holds per kelvin: check the losses and the volume');
    const ambient = series(fields, 'ambientC', path, horizon, { min: -50, max: 60, default: 20 });
    const demandKw = series(fields, 'heatDemandW', path, horizon, { min: 0, max: 1e8 }).map((w) => w / 1000);
    const startCost = number(fields, 'startCost', path, { min: 0, max: 1e6, default: 0 });
    const minRun = number(fields, 'minRunSteps', path, { min: 1, max: T, integer: true, default: 1 });
    const initiallyOn = boolean(fields, 'initiallyOn', path, false);
    const switched = minKw > 0 || startCost > 0 || minRun > 1;
    const lowest = Math.min(tempMin, initial);
    const highest = Math.max(tempMax, initial);

    /** Temperature after a step from `temp` with electric power `kw`. */
    const next = (temp: number, kw: number, t: number): number =>
      temp + (dt * (cop[t]! * kw - demandKw[t]! - uaKw * (temp - ambient[t]!))) / capacityKwhPerK;
    /** The power that brings the tank from `temp` to `target` in step t (may be negative). */
    const powerFor = (temp: number, target: number, t: number): number =>
      ((target - temp) * capacityKwhPerK / dt + demandKw[t]! + uaKw * (temp - ambient[t]!)) / cop[t]!;

    const stepsOf = (kw: Float64Array, temperatureC: Float64Array, starts: number[]): AssetSteps => ({
      energyWh: Int32Array.from(kw, (p) => stepWh(p, horizon)),
      temperatureC,
      starts,
      extraCost: starts.length * startCost,
    });

    return {
      type: 'heat-pump',
      id,
      reactive: false,
      check() {
        // Heating as hard as the tank allows gives the warmest tank at every step; if even that
        // falls below the minimum, no plan can meet the demand.
        const problems: Infeasibility[] = [];
        let temp = initial;
        for (let t = 0; t < T; t++) {
          temp = next(temp, Math.min(maxKw, Math.max(0, powerFor(temp, highest, t))), t);
          if (temp < lowest - 1e-6) {
            problems.push({ asset: id, step: t, reason: `heat demand of ${(demandKw[t]! * 1000).toFixed(0)} W cannot be met: even at full power (${(maxKw * 1000).toFixed(0)} W × COP ${cop[t]!.toFixed(2)}) the tank falls to ${temp.toFixed(1)} °C, below its minimum ${lowest.toFixed(1)} °C` });
            break;
          }
        }
        if (problems.length === 0 && temp < terminal - 1e-6) {
          problems.push({ asset: id, step: T - 1, reason: `terminal tank temperature ${terminal.toFixed(1)} °C cannot be reached: at most ${temp.toFixed(1)} °C at full power` });
        }
        return problems;
      },
      build(ctx) {
        const { model } = ctx;
        const power: number[] = [];
        const temperature: number[] = [];
        const on: number[] = [];
        const start: number[] = [];
        for (let t = 0; t < T; t++) {
          const p = model.variable(ctx.name('p', t), { upper: maxKw });
          const temp = model.variable(ctx.name('temp', t), { lower: lowest, upper: highest });
          power.push(p);
          temperature.push(temp);
          const previous: Terms = t === 0 ? [] : [[temperature[t - 1]!, -(capacityKwhPerK - dt * uaKw)]];
          const rhs = -dt * demandKw[t]! + dt * uaKw * ambient[t]! + (t === 0 ? (capacityKwhPerK - dt * uaKw) * initial : 0);
          model.constraint(ctx.name('tank', t), [[temp, capacityKwhPerK], ...previous, [p, -dt * cop[t]!]], '=', rhs);
          if (switched) {
            const o = model.binary(ctx.name('on', t));
            on.push(o);
            model.constraint(ctx.name('pmax', t), [[p, 1], [o, -maxKw]], '<=', 0);
            if (minKw > 0) model.constraint(ctx.name('pmin', t), [[p, 1], [o, -minKw]], '>=', 0);
            const s = model.variable(ctx.name('start', t), { upper: 1 });
            start.push(s);
            if (startCost > 0) ctx.addMoney(s, startCost);
            const before: Terms = t === 0 ? [] : [[on[t - 1]!, 1]];
            model.constraint(ctx.name('starts', t), [[s, 1], [o, -1], ...before], '>=', t === 0 && initiallyOn ? -1 : 0);
            // Once started, it runs for minRun steps.
            for (let k = 1; k < minRun && t - k >= 0; k++) model.constraint(ctx.name(`run${k}`, t), [[o, 1], [start[t - k]!, -1]], '>=', 0);
          }
          ctx.bus.inject(t, [[p, -1]]);
          ctx.bus.declareRange(t, 0, maxKw);
        }
        model.constraint(ctx.name('terminal'), [[temperature[T - 1]!, 1]], '>=', terminal);
        return {
          read(x) {
            const kw = Float64Array.from(power, (p) => x[p]!);
            const starts: number[] = [];
            if (switched) {
              let wasOn = initiallyOn;
              on.forEach((o, t) => {
                const isOn = x[o]! > 0.5;
                if (isOn && !wasOn) starts.push(t);
                wasOn = isOn;
              });
            }
            return stepsOf(kw, Float64Array.from(temperature, (v) => x[v]!), starts);
          },
          start: (steps) => on.map((o, t) => [o, steps.energyWh[t]! > 0 ? 1 : 0] as const),
        };
      },
      baseline() {
        // A thermostat: switch on when the tank would drop below a quarter of its band (or
        // below what it needs to end the horizon at the terminal temperature, as the plan
        // must), heat at full power to the top of the band, then switch off.
        const kw = new Float64Array(T);
        const temps = new Float64Array(T);
        const starts: number[] = [];
        const needed = new Float64Array(T);
        needed[T - 1] = terminal;
        for (let t = T - 1; t > 0; t--) {
          const fullHeat = (dt * (cop[t]! * maxKw - demandKw[t]! + uaKw * ambient[t]!)) / capacityKwhPerK;
          needed[t - 1] = Math.max(lowest, (needed[t]! - fullHeat) / (1 - (dt * uaKw) / capacityKwhPerK));
        }
        const switchOn = lowest + 0.25 * (highest - lowest);
        let running = initiallyOn;
        let temp = initial;
        for (let t = 0; t < T; t++) {
          if (!running && next(temp, 0, t) < Math.max(switchOn, needed[t]!)) {
            running = true;
            starts.push(t);
          }
          let p = 0;
          if (running) {
            p = Math.min(maxKw, Math.max(0, powerFor(temp, highest, t)));
            if (p < minKw) p = 0;
          }
          temp = next(temp, p, t);
          if (running && (p === 0 || temp >= highest - 1e-6)) running = false;
          kw[t] = p;
          temps[t] = temp;
        }
        return stepsOf(kw, temps, starts);
      },
    };
  },
});
