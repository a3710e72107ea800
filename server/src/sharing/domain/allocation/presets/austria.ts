import { dynamicKernel } from '../dynamic.js';
import { kernelAllocator, registerRule, requireShares } from '../registry.js';
import { staticKernel } from '../static.js';

/**
 * Austria, Erneuerbare-Energie-Gemeinschaft (EEG) / Bürgerenergiegemeinschaft (§ 16a–16e
 * ElWOG 2010). The grid operator allocates every quarter hour, capped at each participant's
 * consumption in that quarter hour, with a key chosen by the community:
 * - statisch: every participant a fixed agreed share; what is not consumed counts as surplus
 *   fed into the grid → `static`;
 * - dynamisch: in relation to the measured consumption in the quarter hour → `dynamic`.
 * Several generation points feed one pool; each producer's part of what was shared is
 * proportional to its feed-in (the default producer attribution).
 * Source: energiegemeinschaften.gv.at ("Messung und Aufteilung", "Energiezuteilung in
 * Energiegemeinschaften"), Koordinationsstelle für Energiegemeinschaften.
 */
registerRule({
  name: 'at-eeg-static',
  summary: 'Austria EEG, static key: fixed share per participant, capped at consumption per quarter hour',
  needs: 'shares',
  country: 'AT',
  create(config) {
    const shares = requireShares('at-eeg-static', config);
    return kernelAllocator('at-eeg-static', 'interval', (n) => staticKernel(shares, n), config.producers);
  },
});

registerRule({
  name: 'at-eeg-dynamic',
  summary: 'Austria EEG, dynamic key: in proportion to consumption per quarter hour',
  needs: 'nothing',
  country: 'AT',
  create: (config) => kernelAllocator('at-eeg-dynamic', 'interval', dynamicKernel, config.producers),
});
