/**
 * Runs `forecastCommunity` (pure, CPU-heavy for large communities) in a worker thread, for each
 * due task of one community. Loads only the pure core (the worker rule: no capability index).
 */
import './domain/models/index.js';
import { createForecastCalendar } from './domain/calendar.js';
import { forecastCommunity, type CommunityPoint } from './domain/community.js';
import { toStoredW } from './domain/stored.js';
import type { Location } from './domain/model.js';
import type { DueForecast } from './domain/schedule.js';
import type { WeatherSeries } from './domain/weather.js';
import type { WorkerOutput } from '../platform/workers/worker-thread.js';

export interface CommunityRunInput {
  readonly timeZone: string;
  readonly country: string | null;
  readonly location: Location | undefined;
  readonly weather: WeatherSeries | undefined;
  readonly due: readonly DueForecast[];
  readonly points: readonly CommunityPoint[];
}

/** One forecast series to store, quantiles in whole W (null: no forecast). */
export interface ComputedSeries {
  /** A metering point's id; undefined for the community's aggregates. */
  readonly pointId: string | undefined;
  readonly kind: 'consumption' | 'production' | 'heat' | 'surplus';
  readonly model: string;
  readonly p10: (number | null)[];
  readonly p50: (number | null)[];
  readonly p90: (number | null)[];
}

export interface CommunityRunOutput {
  readonly runs: readonly { readonly due: DueForecast; readonly series: readonly ComputedSeries[]; readonly unavailable: number }[];
}

/** The name stored as the model of the community's aggregates: Σ of the points' forecasts, band conformal on the aggregate. */
export const COMMUNITY_MODEL = 'community-sum';

export function computeCommunity(input: CommunityRunInput): CommunityRunOutput {
  const calendar = createForecastCalendar(input.timeZone, input.country ?? undefined);
  return {
    runs: input.due.map((due) => {
      const result = forecastCommunity({ calendar, location: input.location, weather: input.weather, task: due.task, points: input.points });
      const series: ComputedSeries[] = [];
      for (const point of result.points) {
        for (const [kind, forecast] of [['consumption', point.consumption], ['production', point.production], ['heat', point.heat]] as const) {
          if (!forecast?.model) continue;
          series.push({ pointId: point.id, kind, model: forecast.model, p10: toStoredW(forecast.p10), p50: toStoredW(forecast.p50), p90: toStoredW(forecast.p90) });
        }
      }
      for (const [kind, aggregate] of [['consumption', result.consumption], ['production', result.production], ['surplus', result.surplus]] as const) {
        if (aggregate.points === 0) continue;
        series.push({ pointId: undefined, kind, model: COMMUNITY_MODEL, p10: toStoredW(aggregate.p10), p50: toStoredW(aggregate.p50), p90: toStoredW(aggregate.p90) });
      }
      return { due, series, unavailable: result.unavailable.length };
    }),
  };
}

export async function run(input: CommunityRunInput): Promise<WorkerOutput<CommunityRunOutput>> {
  return { value: computeCommunity(input) };
}
