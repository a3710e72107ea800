/**
 * Runs `forecastCommunity` (pure, CPU-heavy for large communities) in a worker thread, for each
 * due task of one community. Loads only the pure core (the worker rule: no capability index).
 */
import './domain/models/index.js';
import { createForecastCalendar } from './domain/calendar.js';
import { addToCommunitySums, communityAggregates, emptyCommunitySums, forecastPoints, type CommunityPoint, type CommunitySums } from './domain/community.js';
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
  /** One part of the community's points (the service sends a large community a part at a time). */
  readonly points: readonly CommunityPoint[];
  /** The sums of the parts before this one, one per due task (absent: this is the first part). */
  readonly sums?: readonly CommunitySums[] | undefined;
  /** The last part: the series then include the community's aggregates (consumption, production, surplus). */
  readonly last: boolean;
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
  /** Per due task: the part's points' series (and after the last part the aggregates'), and the sums with this part added, for the next part. */
  readonly runs: readonly { readonly due: DueForecast; readonly series: readonly ComputedSeries[]; readonly sums: CommunitySums }[];
}

/** The name stored as the model of the community's aggregates: Σ of the points' forecasts, band conformal on the aggregate. */
export const COMMUNITY_MODEL = 'community-sum';

/** The points' forecasts of one part of a community, each due task's sums carried on. */
export function computeCommunity(input: CommunityRunInput): CommunityRunOutput {
  const calendar = createForecastCalendar(input.timeZone, input.country ?? undefined);
  return {
    runs: input.due.map((due, i) => {
      const points = forecastPoints({ calendar, location: input.location, weather: input.weather, task: due.task, points: input.points });
      const series: ComputedSeries[] = [];
      for (const point of points) {
        for (const [kind, forecast] of [['consumption', point.consumption], ['production', point.production], ['heat', point.heat]] as const) {
          if (!forecast?.model) continue;
          series.push({ pointId: point.id, kind, model: forecast.model, p10: toStoredW(forecast.p10), p50: toStoredW(forecast.p50), p90: toStoredW(forecast.p90) });
        }
      }
      const sums = addToCommunitySums(input.sums?.[i] ?? emptyCommunitySums(due.task), points);
      if (input.last) series.push(...aggregateSeries(due.task, sums));
      return { due, series, sums };
    }),
  };
}

/** The community's aggregate series (consumption, production, surplus) once every part is in the sums. */
function aggregateSeries(task: DueForecast['task'], sums: CommunitySums): ComputedSeries[] {
  const result = communityAggregates(task, sums);
  const series: ComputedSeries[] = [];
  for (const [kind, aggregate] of [['consumption', result.consumption], ['production', result.production], ['surplus', result.surplus]] as const) {
    if (aggregate.points === 0) continue;
    series.push({ pointId: undefined, kind, model: COMMUNITY_MODEL, p10: toStoredW(aggregate.p10), p50: toStoredW(aggregate.p50), p90: toStoredW(aggregate.p90) });
  }
  return series;
}

export async function run(input: CommunityRunInput): Promise<WorkerOutput<CommunityRunOutput>> {
  return { value: computeCommunity(input) };
}
