import { boolean, series, text } from '../fields.js';
import { registerAsset, stepWh, type AssetSteps } from './registry.js';

/**
 * A producer (PV, wind) with its forecast per step. Where the device accepts a limit
 * (`curtailable`), the plan may produce less than the forecast; otherwise it produces the
 * forecast and the model only accounts for it.
 */
registerAsset({
  type: 'producer',
  summary: 'PV or wind with a production forecast; curtailable where the device takes a limit',
  fields: ['forecastW', 'curtailable', 'source'],
  parse(fields, path, id, horizon) {
    const forecastW = series(fields, 'forecastW', path, horizon, { min: 0, max: 1e9 });
    const curtailable = boolean(fields, 'curtailable', path, false);
    text(fields, 'source', path, 'pv');
    const forecastWh = Int32Array.from(forecastW, (w) => stepWh(w / 1000, horizon));
    const steps = (producedWh: Int32Array): AssetSteps => ({
      energyWh: producedWh.map((wh) => -wh),
      producedWh,
      curtailedWh: forecastWh.map((wh, t) => wh - producedWh[t]!),
    });
    return {
      type: 'producer',
      id,
      reactive: false,
      check: () => [],
      build(ctx) {
        if (!curtailable) {
          for (let t = 0; t < horizon.steps; t++) {
            const kw = forecastW[t]! / 1000;
            ctx.bus.injectConstant(t, kw);
            ctx.bus.produce(t, [], kw);
            ctx.bus.declareRange(t, kw, 0);
          }
          return { read: () => steps(forecastWh) };
        }
        const output: number[] = [];
        for (let t = 0; t < horizon.steps; t++) {
          const kw = forecastW[t]! / 1000;
          const v = ctx.model.variable(ctx.name('p', t), { upper: kw });
          output.push(v);
          ctx.bus.inject(t, [[v, 1]]);
          ctx.bus.produce(t, [[v, 1]]);
          ctx.bus.declareRange(t, kw, 0);
        }
        // Produced energy is rounded like the forecast, so curtailment is never negative.
        return { read: (x) => steps(Int32Array.from(output, (v, t) => Math.min(forecastWh[t]!, Math.max(0, stepWh(x[v]!, horizon))))) };
      },
      baseline: () => steps(forecastWh),
    };
  },
});
