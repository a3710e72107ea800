import { dynamicKernel } from '../dynamic.js';
import { kernelAllocator, registerRule, requireShares } from '../registry.js';
import { staticKernel } from '../static.js';

/**
 * France, autoconsommation collective (Code de l'énergie L315-2 ff., R315-4 ff.). At each
 * metering step the production allocated to a consumer is production × a distribution
 * coefficient, never more than its measured consumption, and the total never more than Σ
 * production or Σ consumption. Enedis offers these keys:
 * - clé par défaut (dynamique par défaut): coefficient = share of the step's consumption
 *   → `dynamic` (the default key when the PMO gives none);
 * - clé statique: a fixed coefficient per consumer → `static`;
 * - clé dynamique simple: coefficients computed by the PMO for every step and sent to Enedis
 *   → `static` with a coefficient per period (a coefficients file, 15/30/60-minute rows).
 * Source: Code de l'énergie (Légifrance, section "autoconsommation collective"); Enogrid,
 * "Les clés de répartition en autoconsommation collective"; part-energie.fr, "Les clés de
 * répartition en auto-consommation collective".
 */
registerRule({
  name: 'fr-acc-default',
  summary: 'France ACC, default key: pro rata of consumption at each step',
  needs: 'nothing',
  country: 'FR',
  create: (config) => kernelAllocator('fr-acc-default', 'interval', dynamicKernel, config.producers),
});

registerRule({
  name: 'fr-acc-static',
  summary: 'France ACC, static key: fixed coefficient per consumer, capped at consumption',
  needs: 'shares',
  country: 'FR',
  create(config) {
    const shares = requireShares('fr-acc-static', config);
    return kernelAllocator('fr-acc-static', 'interval', (n) => staticKernel(shares, n), config.producers);
  },
});

registerRule({
  name: 'fr-acc-dynamic-simple',
  summary: 'France ACC, "dynamique simple": coefficients per consumer and step from the PMO, capped at consumption',
  needs: 'coefficients',
  country: 'FR',
  create(config) {
    const shares = requireShares('fr-acc-dynamic-simple', config);
    return kernelAllocator('fr-acc-dynamic-simple', 'interval', (n) => staticKernel(shares, n), config.producers);
  },
});
