import { DAY_MS } from '../../../kernel/time.js';
import { registerModel } from '../registry.js';
import { knownBefore } from '../series.js';
import { profilePowerPerKwh } from '../standard-profile.js';
import type { FitInput, FittedModel, ModelAdapter, StandardProfileName } from '../model.js';

/** Annual consumption assumed for a household with neither history nor a configured figure. */
export const DEFAULT_ANNUAL_KWH = 3000;
/** History used to scale the profile to the site. */
const SCALE_WINDOW_MS = 365 * DAY_MS;
/** Below this much known history the profile is scaled by the configured annual consumption. */
const MIN_SCALE_DAYS = 1;

/**
 * Standard profile for sites with little history: the BDEW profile (H25 unless the site names
 * P25, S25 or G25) scaled to the site — by the ratio of its metered energy to the profile's over
 * the last year of known history, else by the configured annual consumption, else by
 * DEFAULT_ANNUAL_KWH (parameter `scaleSource` says which).
 */
const standardProfile: ModelAdapter = {
  name: 'standard-profile',
  summary: 'BDEW H25/P25/S25/G25 with dynamisation, scaled to the site',
  kinds: ['load'],
  needs: { minHistoryDays: 0, location: false, weather: 'none', text: 'nothing; scaled by history or the annual consumption when known' },
  unusable: () => undefined,
  fit(input: FitInput): FittedModel {
    const { series, site, calendar, fitAtMs } = input;
    const profile: StandardProfileName = site.profile ?? 'H25';
    const history = knownBefore(series, fitAtMs);
    let metered = 0;
    let modelled = 0;
    let known = 0;
    const from = Math.max(series.startMs, history.knownUntilMs - SCALE_WINDOW_MS);
    for (let t = from; t < history.knownUntilMs; t += series.stepMs) {
      const v = history.at(t);
      if (Number.isNaN(v)) continue;
      metered += v;
      modelled += profilePowerPerKwh(profile, calendar, t, series.stepMs);
      known++;
    }
    let annualKwh: number;
    let scaleSource: string;
    if ((known * series.stepMs) / DAY_MS >= MIN_SCALE_DAYS && modelled > 0) {
      annualKwh = metered / modelled;
      scaleSource = 'history';
    } else if (site.annualConsumptionKwh !== undefined) {
      annualKwh = site.annualConsumptionKwh;
      scaleSource = 'configured';
    } else {
      annualKwh = DEFAULT_ANNUAL_KWH;
      scaleSource = 'default';
    }
    return {
      model: 'standard-profile',
      parameters: { profile, annualKwh: Math.round(annualKwh), scaleSource },
      predict(task) {
        const out = new Float64Array(task.steps);
        for (let k = 0; k < task.steps; k++) out[k] = annualKwh * profilePowerPerKwh(profile, calendar, task.startMs + k * series.stepMs, series.stepMs);
        return out;
      },
    };
  },
};

registerModel(standardProfile);
