import { registerModel } from '../registry.js';
import { knownBefore } from '../series.js';
import type { FitInput, FittedModel, ModelAdapter } from '../model.js';
import { MAX_LOOKBACK_DAYS, lacksHistory, lookback } from './common.js';

/**
 * Similar day: the mean (or median) of the last `days` days of the same type — working day,
 * Saturday, Sunday/public holiday in the community's country — at the same local time, among
 * days known at issue time. PV has no day types (the sun ignores holidays): the last days.
 * Where fewer same-type days are known, the last days of any type stand in.
 */
function similarDay(name: string, days: number, statistic: 'mean' | 'median', inAuto: boolean): ModelAdapter {
  return {
    name,
    inAuto,
    summary: `${statistic} of the last ${days} days of the same type (working day, Saturday, Sunday/holiday)`,
    kinds: ['load', 'pv', 'heat'],
    needs: { minHistoryDays: 1, location: false, weather: 'none', text: 'at least a day of history; best with several weeks' },
    unusable: (input, atMs) => lacksHistory(input.series, atMs, 1),
    fit(input: FitInput): FittedModel {
      const { series, site, calendar } = input;
      return {
        model: name,
        parameters: { days, statistic },
        predict(task) {
          const history = knownBefore(series, task.issuedAtMs);
          const out = new Float64Array(task.steps).fill(Number.NaN);
          const picked: number[] = [];
          const anyType: number[] = [];
          for (let k = 0; k < task.steps; k++) {
            const { times, sameType } = lookback(site.kind, calendar, task.startMs + k * series.stepMs);
            picked.length = 0;
            anyType.length = 0;
            for (let back = 1; back <= MAX_LOOKBACK_DAYS && picked.length < days; back++) {
              const v = history.at(times[back - 1]!);
              if (Number.isNaN(v)) continue;
              if (anyType.length < days) anyType.push(v);
              if (sameType[back - 1] === 1) picked.push(v);
            }
            const values = picked.length > 0 ? picked : anyType;
            if (values.length > 0) out[k] = statistic === 'mean' ? mean(values) : median(values);
          }
          return out;
        },
      };
    },
  };
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function median(values: number[]): number {
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}

registerModel(similarDay('similar-day', 5, 'mean', true));
registerModel(similarDay('similar-day-median', 7, 'median', false));
