import { boolean, instantStep, join, list, number, record, ScenarioError } from '../fields.js';
import { stepInstant } from '../horizon.js';
import type { Terms } from '../model.js';
import { registerAsset, stepWh, type AssetSteps, type Infeasibility } from './registry.js';

/**
 * An electric vehicle at a charger, for one or more connection sessions in the horizon. A
 * session runs over the whole steps between arrival and departure and must add
 * `energyNeededWh` to the battery by departure (when departure lies beyond the horizon, what
 * the charger can still add after the horizon at full power is left for later). A minimum
 * charging power means the charger is either off or at least at that power: a binary per step
 * with the maximum power as its big-M. Bidirectional chargers may also discharge, down to
 * `minSocWh`; the SoC is then tracked per step.
 */
interface Session {
  readonly first: number;
  /** One past the last step. */
  readonly end: number;
  readonly socKwh: number;
  /** Energy that must be in the battery at the end of the session's last step in the horizon. */
  readonly requiredKwh: number;
  readonly neededKwh: number;
  readonly departureStep: number;
}

registerAsset({
  type: 'ev',
  summary: 'EV charging sessions: arrival, departure, energy needed, min/max power, optional bidirectional',
  fields: ['capacityWh', 'maxPowerW', 'minPowerW', 'efficiency', 'bidirectional', 'maxDischargeW', 'minSocWh', 'sessions'],
  parse(fields, path, id, horizon) {
    const capacityKwh = number(fields, 'capacityWh', path, { above: 0, max: 1e7 }) / 1000;
    const maxKw = number(fields, 'maxPowerW', path, { above: 0, max: 1e7 }) / 1000;
    const minKw = number(fields, 'minPowerW', path, { min: 0, max: maxKw * 1000, default: 0 }) / 1000;
    const eta = number(fields, 'efficiency', path, { above: 0, max: 1, default: 0.9 });
    const bidirectional = boolean(fields, 'bidirectional', path, false);
    const maxDischargeKw = bidirectional ? number(fields, 'maxDischargeW', path, { min: 0, max: 1e7, default: maxKw * 1000 }) / 1000 : 0;
    const minSocKwh = number(fields, 'minSocWh', path, { min: 0, max: capacityKwh * 1000, default: 0 }) / 1000;
    const T = horizon.steps;
    const dt = horizon.stepHours;
    const sessionsPath = join(path, 'sessions');
    let previousEnd = Number.NEGATIVE_INFINITY;
    const sessions: Session[] = [];
    list(fields.sessions, sessionsPath, { min: 1, max: 50 }).forEach((raw, i) => {
      const where = join(sessionsPath, i);
      const s = record(raw, where, ['arrival', 'departure', 'socAtConnectionWh', 'energyNeededWh']);
      const arrival = instantStep(s.arrival, join(where, 'arrival'), horizon, 'ceil');
      const departure = instantStep(s.departure, join(where, 'departure'), horizon, 'floor');
      if (departure <= arrival) throw new ScenarioError(join(where, 'departure'), 'must be at least one whole step after arrival');
      if (arrival < previousEnd) throw new ScenarioError(join(where, 'arrival'), 'overlaps the session before');
      previousEnd = departure;
      const socKwh = number(s, 'socAtConnectionWh', where, { min: 0, max: capacityKwh * 1000 }) / 1000;
      const neededKwh = number(s, 'energyNeededWh', where, { min: 0, max: 1e7 }) / 1000;
      const first = Math.max(0, arrival);
      const end = Math.min(T, departure);
      if (end <= first) return; // entirely outside the horizon
      const afterHorizonKwh = departure > T ? (departure - T) * dt * maxKw * eta : 0;
      sessions.push({ first, end, socKwh, neededKwh, departureStep: departure, requiredKwh: socKwh + Math.max(0, neededKwh - afterHorizonKwh) });
    });

    const at = (t: number) => stepInstant(horizon, t);
    return {
      type: 'ev',
      id,
      reactive: false,
      check() {
        const problems: Infeasibility[] = [];
        for (const s of sessions) {
          const steps = s.end - s.first;
          const possibleKwh = steps * dt * maxKw * eta;
          if (s.socKwh + s.neededKwh > capacityKwh + 1e-9) {
            problems.push({ asset: id, step: s.first, reason: `needs ${kwh(s.neededKwh)} on top of ${kwh(s.socKwh)} at connection, more than its ${kwh(capacityKwh)} battery holds` });
          } else if (s.requiredKwh - s.socKwh > possibleKwh + 1e-9) {
            problems.push({ asset: id, step: s.end - 1, reason: `needs ${kwh(s.neededKwh)} by departure at ${at(s.departureStep)}, but at most ${kwh(possibleKwh)} can be charged between ${at(s.first)} and ${at(s.end)} (${steps} steps at ${kw(maxKw)}, ${Math.round(eta * 100)} % efficiency)` });
          } else if (minKw > 0 && s.neededKwh > 0 && capacityKwh - s.socKwh < minKw * eta * dt - 1e-9) {
            problems.push({ asset: id, step: s.first, reason: `one step at the minimum power ${kw(minKw)} would overfill the battery (${kwh(capacityKwh - s.socKwh)} free)` });
          }
        }
        return problems;
      },
      build(ctx) {
        const { model } = ctx;
        const charge = new Map<number, number>();
        const discharge = new Map<number, number>();
        const soc = new Map<number, number>();
        /** Binaries that are 1 while charging / while discharging. */
        const charging = new Map<number, number>();
        const discharging = new Map<number, number>();
        sessions.forEach((s, k) => {
          const delivered: [number, number][] = [];
          for (let t = s.first; t < s.end; t++) {
            const p = model.variable(ctx.name(`s${k}.c`, t), { upper: maxKw });
            charge.set(t, p);
            const injection: [number, number][] = [[p, -1]];
            let q: number | undefined;
            if (bidirectional && maxDischargeKw > 0) {
              q = model.variable(ctx.name(`s${k}.d`, t), { upper: maxDischargeKw });
              discharge.set(t, q);
              injection.push([q, 1]);
            }
            if (minKw > 0) {
              const on = model.binary(ctx.name(`s${k}.on`, t));
              charging.set(t, on);
              model.constraint(ctx.name(`s${k}.cmin`, t), [[p, 1], [on, -minKw]], '>=', 0);
              model.constraint(ctx.name(`s${k}.cmax`, t), [[p, 1], [on, -maxKw]], '<=', 0);
              if (q !== undefined) {
                const off = model.binary(ctx.name(`s${k}.don`, t));
                discharging.set(t, off);
                model.constraint(ctx.name(`s${k}.dmin`, t), [[q, 1], [off, -Math.min(minKw, maxDischargeKw)]], '>=', 0);
                model.constraint(ctx.name(`s${k}.dmax`, t), [[q, 1], [off, -maxDischargeKw]], '<=', 0);
                model.constraint(ctx.name(`s${k}.onedir`, t), [[on, 1], [off, 1]], '<=', 1);
              }
            } else if (q !== undefined && ctx.negativePriceAt(t)) {
              const y = model.binary(ctx.name(`s${k}.charging`, t));
              charging.set(t, y);
              model.constraint(ctx.name(`s${k}.conly`, t), [[p, 1], [y, -maxKw]], '<=', 0);
              model.constraint(ctx.name(`s${k}.donly`, t), [[q, 1], [y, maxDischargeKw]], '<=', maxDischargeKw);
            }
            if (q !== undefined) {
              const e = model.variable(ctx.name(`s${k}.e`, t), { lower: Math.min(minSocKwh, s.socKwh), upper: capacityKwh });
              const previous: Terms = t === s.first ? [] : [[soc.get(t - 1)!, -1]];
              model.constraint(ctx.name(`s${k}.soc`, t), [[e, 1], ...previous, [p, -eta * dt], [q, dt / eta]], '=', t === s.first ? s.socKwh : 0);
              soc.set(t, e);
            } else {
              delivered.push([p, eta * dt]);
            }
            ctx.bus.inject(t, injection);
            ctx.bus.declareRange(t, q === undefined ? 0 : maxDischargeKw, maxKw);
          }
          if (bidirectional && maxDischargeKw > 0) {
            model.constraint(ctx.name(`s${k}.need`), [[soc.get(s.end - 1)!, 1]], '>=', s.requiredKwh);
          } else {
            model.constraint(ctx.name(`s${k}.need`), delivered, '>=', s.requiredKwh - s.socKwh);
            model.constraint(ctx.name(`s${k}.full`), delivered, '<=', capacityKwh - s.socKwh);
          }
        });
        return {
          read(x): AssetSteps {
            const energyWh = new Int32Array(T);
            for (const [t, p] of charge) energyWh[t] = stepWh(x[p]! - (discharge.has(t) ? x[discharge.get(t)!]! : 0), horizon);
            return { energyWh, socWh: socSeries(energyWh, (t) => (soc.has(t) ? x[soc.get(t)!]! * 1000 : undefined)) };
          },
          start: (steps) => [
            ...[...charging].map(([t, v]) => [v, steps.energyWh[t]! > 0 ? 1 : 0] as const),
            ...[...discharging].map(([t, v]) => [v, steps.energyWh[t]! < 0 ? 1 : 0] as const),
          ],
        };
      },
      baseline() {
        // A plain charger: full power from arrival until the energy needed is in.
        const energyWh = new Int32Array(T);
        for (const s of sessions) {
          let missing = s.requiredKwh - s.socKwh;
          for (let t = s.first; t < s.end && missing > 1e-9; t++) {
            const p = Math.min(maxKw, Math.max(minKw, missing / (eta * dt)), (capacityKwh - s.requiredKwh + missing) / (eta * dt));
            energyWh[t] = stepWh(p, horizon);
            missing -= p * eta * dt;
          }
        }
        return { energyWh, socWh: socSeries(energyWh, () => undefined) };
      },
    };

    /** SoC per step while connected (null while away): from the solution, or from the energy. */
    function socSeries(energyWh: Int32Array, solved: (t: number) => number | undefined): (number | null)[] {
      const out: (number | null)[] = new Array<number | null>(T).fill(null);
      for (const s of sessions) {
        let e = s.socKwh * 1000;
        for (let t = s.first; t < s.end; t++) {
          const wh = energyWh[t]!;
          e += wh > 0 ? wh * eta : wh / eta;
          out[t] = Math.round(solved(t) ?? e);
        }
      }
      return out;
    }
  },
});

const kwh = (v: number): string => `${v.toFixed(1)} kWh`;
const kw = (v: number): string => `${v.toFixed(1)} kW`;
