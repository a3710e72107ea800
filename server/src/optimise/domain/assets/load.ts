import { series } from '../fields.js';
import { registerAsset, stepWh, type AssetSteps } from './registry.js';

/** Fixed consumption from the load forecast (W per step): not controllable, only accounted for. */
registerAsset({
  type: 'load',
  summary: 'fixed consumption from the load forecast',
  fields: ['powerW'],
  parse(fields, path, id, horizon) {
    const powerW = series(fields, 'powerW', path, horizon, { min: 0, max: 1e8 });
    const steps = (): AssetSteps => ({ energyWh: Int32Array.from(powerW, (w) => stepWh(w / 1000, horizon)) });
    return {
      type: 'load',
      id,
      reactive: false,
      check: () => [],
      build(ctx) {
        for (let t = 0; t < horizon.steps; t++) {
          ctx.bus.injectConstant(t, -powerW[t]! / 1000);
          ctx.bus.declareRange(t, 0, powerW[t]! / 1000);
        }
        return { read: steps };
      },
      baseline: steps,
    };
  },
});
