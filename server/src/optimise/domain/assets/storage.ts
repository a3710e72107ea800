import { number, optionalNumber, series } from '../fields.js';
import { registerAsset, stepWh, type AssetSteps, type Infeasibility } from './registry.js';

/**
 * A home or community battery. Energy stored (kWh) at the end of step t:
 *   e[t] = e[t−1] + ηc·Δt·charge[t] − Δt/ηd·discharge[t],   e[−1] = initial
 * with power limits scaled by the availability of each step, SoC within [min, max] (or down to
 * the initial SoC when the battery starts below its minimum: the plan cannot undo the past)
 * and e[last] ≥ the terminal target (default: the initial SoC, so a plan never sells the
 * battery empty at the end of its horizon). Charging and discharging at once only wastes
 * energy, which no plan does unless energy is worth less than nothing: at steps with a
 * negative price a binary forbids it.
 */
registerAsset({
  type: 'storage',
  summary: 'battery: efficiencies, power limits, capacity, SoC bounds, availability, initial and terminal SoC',
  fields: ['capacityWh', 'maxChargeW', 'maxDischargeW', 'chargeEfficiency', 'dischargeEfficiency', 'socMin', 'socMax', 'initialSoc', 'terminalSoc', 'availability'],
  parse(fields, path, id, horizon) {
    const capacityKwh = number(fields, 'capacityWh', path, { above: 0, max: 1e9 }) / 1000;
    const maxChargeKw = number(fields, 'maxChargeW', path, { min: 0, max: 1e9 }) / 1000;
    const maxDischargeKw = number(fields, 'maxDischargeW', path, { min: 0, max: 1e9 }) / 1000;
    const etaC = number(fields, 'chargeEfficiency', path, { above: 0, max: 1, default: 0.95 });
    const etaD = number(fields, 'dischargeEfficiency', path, { above: 0, max: 1, default: 0.95 });
    const socMin = number(fields, 'socMin', path, { min: 0, max: 1, default: 0 });
    const socMax = number(fields, 'socMax', path, { min: socMin, max: 1, default: 1 });
    const initialSoc = number(fields, 'initialSoc', path, { min: 0, max: 1 });
    const terminalSoc = optionalNumber(fields, 'terminalSoc', path, { min: 0, max: socMax }) ?? Math.min(initialSoc, socMax);
    const availability = series(fields, 'availability', path, horizon, { min: 0, max: 1, default: 1 });
    const T = horizon.steps;
    const dt = horizon.stepHours;
    const initialKwh = initialSoc * capacityKwh;
    const lowestKwh = Math.min(socMin * capacityKwh, initialKwh);
    const highestKwh = Math.max(socMax * capacityKwh, initialKwh);

    return {
      type: 'storage',
      id,
      reactive: true,
      check() {
        const problems: Infeasibility[] = [];
        let reachable = initialKwh;
        for (let t = 0; t < T; t++) reachable = Math.min(highestKwh, reachable + etaC * dt * maxChargeKw * availability[t]!);
        if (reachable + 1e-9 < terminalSoc * capacityKwh) {
          problems.push({ asset: id, step: T - 1, reason: `terminal SoC ${pct(terminalSoc)} cannot be reached: from ${pct(initialSoc)} at most ${pct(reachable / capacityKwh)} by the end of the horizon (${fmtKw(maxChargeKw)} charge limit and availability)` });
        }
        return problems;
      },
      build(ctx) {
        const { model } = ctx;
        const charge: number[] = [];
        const charging = new Map<number, number>();
        const discharge: number[] = [];
        const soc: number[] = [];
        for (let t = 0; t < T; t++) {
          const c = model.variable(ctx.name('c', t), { upper: maxChargeKw * availability[t]! });
          const d = model.variable(ctx.name('d', t), { upper: maxDischargeKw * availability[t]! });
          const e = model.variable(ctx.name('e', t), { lower: lowestKwh, upper: highestKwh });
          charge.push(c);
          discharge.push(d);
          soc.push(e);
          const previous: [number, number][] = t === 0 ? [] : [[soc[t - 1]!, -1]];
          model.constraint(ctx.name('soc', t), [[e, 1], ...previous, [c, -etaC * dt], [d, dt / etaD]], '=', t === 0 ? initialKwh : 0);
          if (ctx.negativePriceAt(t) && maxChargeKw * availability[t]! > 0 && maxDischargeKw * availability[t]! > 0) {
            const y = model.binary(ctx.name('charging', t));
            charging.set(t, y);
            model.constraint(ctx.name('conly', t), [[c, 1], [y, -maxChargeKw * availability[t]!]], '<=', 0);
            model.constraint(ctx.name('donly', t), [[d, 1], [y, maxDischargeKw * availability[t]!]], '<=', maxDischargeKw * availability[t]!);
          }
          ctx.bus.inject(t, [[d, 1], [c, -1]]);
          ctx.bus.declareRange(t, maxDischargeKw * availability[t]!, maxChargeKw * availability[t]!);
        }
        model.constraint(ctx.name('terminal'), [[soc[T - 1]!, 1]], '>=', terminalSoc * capacityKwh);
        return {
          read: (x): AssetSteps => ({
            energyWh: Int32Array.from(charge, (c, t) => stepWh(x[c]! - x[discharge[t]!]!, horizon)),
            socWh: soc.map((e) => Math.round(x[e]! * 1000)),
          }),
          start: (steps) => [...charging].map(([t, y]) => [y, steps.energyWh[t]! > 0 ? 1 : 0] as const),
        };
      },
      baseline(surplusWh) {
        // Self-consumption mode, as inverters do by default: store surplus, cover deficit; but
        // end at the terminal SoC as the plan must (charging from the grid as late as
        // possible), so that plan and baseline leave the same energy behind.
        const energyWh = new Int32Array(T);
        const socWh: number[] = [];
        const neededWh = new Float64Array(T);
        neededWh[T - 1] = terminalSoc * capacityKwh * 1000;
        for (let t = T - 1; t > 0; t--) neededWh[t - 1] = Math.max(0, neededWh[t]! - etaC * dt * maxChargeKw * availability[t]! * 1000);
        let e = initialKwh * 1000;
        for (let t = 0; t < T; t++) {
          const s = surplusWh[t]!;
          const chargeLimit = Math.min(maxChargeKw * availability[t]! * dt * 1000, Math.max(0, (highestKwh * 1000 - e) / etaC));
          const floorWh = Math.max(socMin * capacityKwh * 1000, neededWh[t]!);
          let wh = 0;
          if (s > 0) wh = Math.min(s, chargeLimit);
          else if (s < 0) wh = -Math.min(-s, maxDischargeKw * availability[t]! * dt * 1000, Math.max(0, (e - floorWh) * etaD));
          if (e + (wh > 0 ? wh * etaC : wh / etaD) < neededWh[t]!) wh = Math.min(chargeLimit, Math.ceil((neededWh[t]! - e) / etaC));
          wh = Math.trunc(wh);
          e += wh > 0 ? wh * etaC : wh / etaD;
          energyWh[t] = wh;
          socWh.push(Math.round(e));
        }
        return { energyWh, socWh };
      },
    };
  },
});

const pct = (fraction: number): string => `${(fraction * 100).toFixed(1)} %`;
const fmtKw = (kw: number): string => `${kw.toFixed(2)} kW`;
