import { BadRequestError } from '../../kernel/errors.js';
import { bandFromErrors, type Band } from './conformal.js';
import { forecastSeries, type SeriesForecast } from './forecast.js';
import type { ForecastCalendar } from './calendar.js';
import type { Location, SeriesKind, SiteContext } from './model.js';
import type { Series } from './series.js';
import type { ForecastTask } from './tasks.js';
import type { WeatherSeries } from './weather.js';

/**
 * Forecasts for a whole community at once: every metering point's consumption, production and
 * heat-pump power, and the community's consumption, production and surplus.
 *
 * Aggregates. The community's P50 is the sum of the points' P50s. Its band is NOT the sum of
 * the points' bands (that would assume every member errs the same way at once and be far too
 * wide): it is conformal on the aggregate itself. Each point's chosen model replayed the same
 * task on each of the last days; the community's error on a replayed day and lead is the sum of the
 * points' errors there, so members' errors cancel or add up exactly as they did (clouds hit
 * every roof at once; kettles do not boil in step). Where a point's outcome is missing the sum
 * runs over the points that have one, scaled by how many points there are; a day/lead with fewer
 * than 80 % of the points known is left out. Surplus = production − consumption: its errors are
 * the production errors minus the consumption errors of the same day and lead, its quantiles are
 * those of the net, and the surplus quantiles are max(0, net quantile) (quantiles commute with
 * that monotone map). A heat pump's electric power counts as consumption: added to it, unless
 * the point's consumption already holds it (`heatInConsumption`: a heat pump metered behind the
 * billing meter, as in operation), then it is forecast on its own only. Points that have no
 * forecast add nothing (the result lists them).
 */
/** One series of a point, with what the site context needs (kind and location come from the point). */
export interface PointSeries extends Pick<SiteContext, 'pv' | 'annualConsumptionKwh' | 'profile' | 'heatPump'> {
  readonly series: Series;
  /** Model name or `auto` (default: the community's). */
  readonly model?: string | undefined;
}

export interface CommunityPoint {
  readonly id: string;
  readonly location?: Location | undefined;
  readonly consumption?: PointSeries | undefined;
  readonly production?: PointSeries | undefined;
  readonly heat?: PointSeries | undefined;
  /** The heat pump's power is already in `consumption` (behind the billing meter): not added to the community's again. */
  readonly heatInConsumption?: boolean | undefined;
}

export interface CommunityForecastInput {
  readonly calendar: ForecastCalendar;
  /** The community's location (PV physics for points without their own). */
  readonly location?: Location | undefined;
  readonly weather?: WeatherSeries | undefined;
  readonly task: ForecastTask;
  readonly points: readonly CommunityPoint[];
  readonly model?: string | undefined;
  readonly candidates?: readonly string[] | undefined;
  readonly calibrationDays?: number | undefined;
  readonly onProgress?: ((done: number, total: number) => void) | undefined;
}

export interface AggregateForecast extends Band {
  readonly startMs: number;
  readonly stepMs: number;
  /** Points whose forecast is in the sum. */
  readonly points: number;
}

export interface CommunityForecast {
  readonly points: readonly {
    readonly id: string;
    readonly consumption?: SeriesForecast | undefined;
    readonly production?: SeriesForecast | undefined;
    readonly heat?: SeriesForecast | undefined;
    readonly heatInConsumption?: boolean | undefined;
  }[];
  readonly consumption: AggregateForecast;
  readonly production: AggregateForecast;
  /** Expected surplus (production − consumption, at least 0) with its band. */
  readonly surplus: AggregateForecast;
  /** Net = production − consumption (negative: the community draws from the grid). */
  readonly net: AggregateForecast;
  /** Points (and series) without a forecast, with the reason. */
  readonly unavailable: readonly { readonly id: string; readonly kind: SeriesKind; readonly reason: string }[];
}

const MIN_PRESENT = 0.8;

/**
 * The additive part of an aggregate, so a large community's points can be forecast a part at a
 * time and only this (a few steps × replayed days of numbers) kept between the parts: Σ of the
 * P50s, and per replayed day and lead Σ of the errors and how many points had one there.
 */
export interface AggregateSums {
  /** Forecasts added (the aggregate's `points`, and the 80 % rule's whole). */
  forecasts: number;
  readonly p50: Float64Array;
  /** Per replayed day: Σ sign × error per lead, and the count of non-missing errors. */
  readonly errors: { readonly sum: Float64Array; readonly present: Int32Array }[];
}

const emptySums = (steps: number): AggregateSums => ({ forecasts: 0, p50: new Float64Array(steps), errors: [] });

function addForecast(sums: AggregateSums, forecast: SeriesForecast, sign: number): void {
  const steps = sums.p50.length;
  sums.forecasts += 1;
  for (let k = 0; k < steps; k++) if (!Number.isNaN(forecast.p50[k]!)) sums.p50[k]! += sign * forecast.p50[k]!;
  while (sums.errors.length < forecast.replayErrors.length) sums.errors.push({ sum: new Float64Array(steps), present: new Int32Array(steps) });
  forecast.replayErrors.forEach((e, d) => {
    const day = sums.errors[d]!;
    for (let k = 0; k < steps; k++) {
      const v = e[k]!;
      if (Number.isNaN(v)) continue;
      day.sum[k]! += sign * v;
      day.present[k]!++;
    }
  });
}

/** The aggregate's band: conformal on Σ errors per day and lead, scaled for missing points, a lead with under 80 % of the points known left out. */
function finishAggregate(sums: AggregateSums, task: ForecastTask, stepMs: number, nonNegative: boolean): AggregateForecast {
  const total = sums.forecasts;
  const byLead: number[][] = Array.from({ length: task.steps }, () => []);
  for (const { sum, present } of sums.errors) {
    for (let k = 0; k < task.steps; k++) {
      if (present[k]! >= Math.max(1, MIN_PRESENT * total)) byLead[k]!.push((sum[k]! * total) / present[k]!);
    }
  }
  const band = bandFromErrors(sums.p50, byLead, stepMs, nonNegative);
  return { ...band, startMs: task.startMs, stepMs, points: total };
}

/** What the community's aggregates are made from, added to part by part (`addToCommunitySums`). */
export interface CommunitySums {
  readonly consumption: AggregateSums;
  readonly production: AggregateSums;
  /** Production − consumption. */
  readonly net: AggregateSums;
  stepMs: number;
  readonly unavailable: { readonly id: string; readonly kind: SeriesKind; readonly reason: string }[];
}

export const emptyCommunitySums = (task: ForecastTask): CommunitySums => ({
  consumption: emptySums(task.steps), production: emptySums(task.steps), net: emptySums(task.steps), stepMs: 15 * 60_000, unavailable: [],
});

/**
 * Adds points' forecasts to the sums (in place; returns them). Adding the parts of a community
 * in order gives exactly the sums of adding them at once.
 */
export function addToCommunitySums(sums: CommunitySums, points: readonly PointForecast[]): CommunitySums {
  for (const point of points) {
    for (const [kind, forecast] of [['load', point.consumption], ['pv', point.production], ['heat', point.heat]] as const) {
      if (!forecast) continue;
      sums.stepMs = forecast.stepMs;
      if (forecast.model === undefined) {
        sums.unavailable.push({ id: point.id, kind, reason: forecast.unavailable ?? 'no forecast' });
      } else if (kind === 'pv') {
        addForecast(sums.production, forecast, 1);
        addForecast(sums.net, forecast, 1);
      } else if (kind === 'load' || !point.heatInConsumption) {
        addForecast(sums.consumption, forecast, 1);
        addForecast(sums.net, forecast, -1);
      }
    }
  }
  return sums;
}

/** The community's consumption, production, net and surplus from the sums of all its points. */
export function communityAggregates(task: ForecastTask, sums: CommunitySums): Omit<CommunityForecast, 'points'> {
  const net = finishAggregate(sums.net, task, sums.stepMs, false);
  const surplus: AggregateForecast = {
    ...net,
    p10: net.p10.map((v) => Math.max(0, v)),
    p50: net.p50.map((v) => Math.max(0, v)),
    p90: net.p90.map((v) => Math.max(0, v)),
  };
  return {
    consumption: finishAggregate(sums.consumption, task, sums.stepMs, true),
    production: finishAggregate(sums.production, task, sums.stepMs, true),
    surplus,
    net,
    unavailable: sums.unavailable,
  };
}

export type PointForecast = CommunityForecast['points'][number];

/**
 * The points' forecasts alone — independent of each other, so a large community can be split
 * over worker threads and the parts joined by `aggregateCommunity`.
 */
export function forecastPoints(input: CommunityForecastInput): PointForecast[] {
  const { calendar, weather, task } = input;
  const steps = new Set<number>();
  for (const p of input.points) for (const s of [p.consumption, p.production, p.heat]) if (s) steps.add(s.series.stepMs);
  if (steps.size > 1) throw new BadRequestError('all series of a community forecast must have the same step');
  const total = input.points.length;
  return input.points.map((point, index) => {
    const one = (part: PointSeries | undefined, kind: SeriesKind): SeriesForecast | undefined => part && forecastSeries({
      series: part.series,
      site: { kind, location: point.location ?? input.location, pv: part.pv, annualConsumptionKwh: part.annualConsumptionKwh, profile: part.profile, heatPump: part.heatPump },
      calendar,
      weather,
      task,
      model: part.model ?? input.model,
      candidates: input.candidates,
      calibrationDays: input.calibrationDays,
    });
    const result = {
      id: point.id, consumption: one(point.consumption, 'load'), production: one(point.production, 'pv'), heat: one(point.heat, 'heat'),
      ...(point.heatInConsumption ? { heatInConsumption: true } : {}),
    };
    input.onProgress?.(index + 1, total);
    return result;
  });
}

/** The community's consumption, production, net and surplus from its points' forecasts (see the top of this file). */
export function aggregateCommunity(task: ForecastTask, points: readonly PointForecast[]): CommunityForecast {
  return { points, ...communityAggregates(task, addToCommunitySums(emptyCommunitySums(task), points)) };
}

export function forecastCommunity(input: CommunityForecastInput): CommunityForecast {
  return aggregateCommunity(input.task, forecastPoints(input));
}
