import { kernelAllocator, registerRule, requireShares } from '../registry.js';
import { staticKernel } from '../static.js';

/**
 * Spain, autoconsumo colectivo (Real Decreto 244/2019, Annex I, as amended by Orden
 * TED/1247/2021). The net generation of each hour is split by distribution coefficients β_i
 * (between 0 and 1, adding up to 1 in every hour; fixed, or different for each hour of the
 * year since the order); a consumer's share beyond its hourly consumption is its surplus.
 * That is `static` with hourly coefficients, settled per hour: quarter hours are summed to
 * hours, allocated, and spread back (engine.ts runPerHour). Coefficients come from the
 * official coefficients file (CUPS;hour;coefficient, see coefficients.ts) or a constant key.
 */
registerRule({
  name: 'es-coefficients',
  summary: 'Spain collective self-consumption: hourly distribution coefficients per CUPS, capped at hourly consumption',
  needs: 'shares',
  country: 'ES',
  create(config) {
    const shares = requireShares('es-coefficients', config);
    return kernelAllocator('es-coefficients', 'hour', (n) => staticKernel(shares, n), config.producers);
  },
});
