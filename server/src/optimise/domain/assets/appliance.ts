import { instantStep, join, list, number, ScenarioError } from '../fields.js';
import { stepInstant } from '../horizon.js';
import { registerAsset, stepWh, type AssetSteps, type Infeasibility } from './registry.js';

/**
 * A deferrable appliance (washing machine, dishwasher, dryer): a run profile (W per step),
 * a window from the earliest start to the time it must be ready by, and binary start
 * variables, one per allowed start step. Its power at step t is Σ_k profile[k]·start[t−k], so
 * the run is always whole. It runs `runs` times (default once) and at most `maxStarts` times;
 * runs never overlap.
 */
registerAsset({
  type: 'appliance',
  summary: 'deferrable appliance: run profile, window, ready-by, binary starts',
  fields: ['profileW', 'earliestStart', 'readyBy', 'runs', 'maxStarts'],
  parse(fields, path, id, horizon) {
    const T = horizon.steps;
    const profileKw = Float64Array.from(list(fields.profileW, join(path, 'profileW'), { min: 1, max: T }), (w, k) => {
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0 || w > 1e7) throw new ScenarioError(`${join(path, 'profileW')}[${k}]`, 'must be a power in W from 0 to 10,000,000');
      return w / 1000;
    });
    const length = profileKw.length;
    const first = fields.earliestStart === undefined ? 0 : Math.max(0, instantStep(fields.earliestStart, join(path, 'earliestStart'), horizon, 'ceil'));
    const readyBy = fields.readyBy === undefined ? T : Math.min(T, instantStep(fields.readyBy, join(path, 'readyBy'), horizon, 'floor'));
    const runs = number(fields, 'runs', path, { min: 0, max: T, integer: true, default: 1 });
    const maxStarts = number(fields, 'maxStarts', path, { min: runs, max: T, integer: true, default: runs });
    /** Last step a run may start at and still be done by readyBy. */
    const lastStart = readyBy - length;
    const profileWh = Int32Array.from(profileKw, (kw) => stepWh(kw, horizon));

    const stepsFor = (starts: readonly number[]): AssetSteps => {
      const energyWh = new Int32Array(T);
      for (const s of starts) for (let k = 0; k < length && s + k < T; k++) energyWh[s + k]! += profileWh[k]!;
      return { energyWh, starts };
    };

    return {
      type: 'appliance',
      id,
      reactive: false,
      check() {
        const problems: Infeasibility[] = [];
        const windowSteps = Math.max(0, readyBy - first);
        if (runs > 0 && runs * length > windowSteps) {
          problems.push({ asset: id, step: Math.min(first, T - 1), reason: `${runs} run(s) of ${length} steps do not fit between ${stepInstant(horizon, first)} and the ready-by time ${stepInstant(horizon, readyBy)} (${windowSteps} steps)` });
        }
        return problems;
      },
      build(ctx) {
        const { model } = ctx;
        const starts: [number, number][] = [];
        const power: [number, number][][] = Array.from({ length: T }, () => []);
        for (let s = first; s <= lastStart; s++) {
          const v = model.binary(ctx.name('start', s));
          starts.push([s, v]);
          for (let k = 0; k < length; k++) power[s + k]!.push([v, profileKw[k]!]);
        }
        if (starts.length > 0 || runs > 0) {
          const all = starts.map(([, v]) => [v, 1] as const);
          model.constraint(ctx.name('runs'), all, runs === maxStarts ? '=' : '>=', runs);
          if (maxStarts > runs) model.constraint(ctx.name('maxstarts'), all, '<=', maxStarts);
        }
        if (maxStarts > 1 && length > 1) {
          // One machine: at most one run in progress at any step.
          for (let t = first + 1; t < Math.min(T, lastStart + length); t++) {
            const running = starts.filter(([s]) => s <= t && s > t - length).map(([, v]) => [v, 1] as const);
            if (running.length > 1) model.constraint(ctx.name('single', t), running, '<=', 1);
          }
        }
        for (let t = 0; t < T; t++) {
          const terms = power[t]!;
          if (terms.length === 0) continue;
          ctx.bus.inject(t, terms.map(([v, kw]) => [v, -kw] as const));
          ctx.bus.declareRange(t, 0, Math.max(...terms.map(([, kw]) => kw)));
        }
        return {
          read: (x) => stepsFor(starts.filter(([, v]) => x[v]! > 0.5).map(([s]) => s)),
          start: (steps) => starts.map(([s, v]) => [v, steps.starts?.includes(s) ? 1 : 0] as const),
        };
      },
      baseline: () => stepsFor(Array.from({ length: runs }, (_, r) => first + r * length)),
    };
  },
});
