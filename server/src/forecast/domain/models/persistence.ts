import { registerModel } from '../registry.js';
import { knownBefore } from '../series.js';
import type { FitInput, FittedModel, ModelAdapter } from '../model.js';
import { lacksHistory, lookback } from './common.js';

/**
 * Persistence: the value at the same time of day on the most recent day known at issue time
 * (yesterday where it is known, else the day before, … up to `periodDays × lookBack` days).
 * A day-ahead forecast issued at noon thus repeats yesterday's morning and the afternoon of the
 * day before. With `periodDays` 7 it is "same time last week".
 */
function persistence(name: string, periodDays: number, lookBack: number, summary: string, inAuto: boolean): ModelAdapter {
  return {
    name,
    summary,
    inAuto,
    kinds: ['load', 'pv', 'heat'],
    needs: { minHistoryDays: 0, location: false, weather: 'none', text: `a known value at the same time of day within the last ${periodDays * lookBack} days` },
    unusable: (input, atMs) => lacksHistory(input.series, atMs, 1 / 24),
    fit(input: FitInput): FittedModel {
      const { series, site, calendar } = input;
      return {
        model: name,
        parameters: { periodDays },
        predict(task) {
          const history = knownBefore(series, task.issuedAtMs);
          const out = new Float64Array(task.steps).fill(Number.NaN);
          for (let k = 0; k < task.steps; k++) {
            const times = lookback(site.kind, calendar, task.startMs + k * series.stepMs).times;
            for (let back = 1; back <= lookBack; back++) {
              const v = history.at(times[back * periodDays - 1]!);
              if (!Number.isNaN(v)) {
                out[k] = v;
                break;
              }
            }
          }
          return out;
        },
      };
    },
  };
}

registerModel(persistence('persistence', 1, 7, 'the same time of day on the most recent day known at issue time', true));
registerModel(persistence('persistence-week', 7, 4, 'the same time of day one week earlier (two, three or four where that is not known)', false));
