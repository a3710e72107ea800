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

/** Σ of the errors of several forecasts per replayed day and lead (sign ±1 each), scaled for missing points. */
function aggregateErrors(forecasts: readonly { forecast: SeriesForecast; sign: number }[], steps: number): number[][] {
  const days = Math.max(0, ...forecasts.map((f) => f.forecast.replayErrors.length));
  const total = forecasts.length;
  const byLead: number[][] = Array.from({ length: steps }, () => []);
  for (let d = 0; d < days; d++) {
    const sum = new Float64Array(steps);
    const present = new Int32Array(steps);
    for (const { forecast, sign } of forecasts) {
      const e = forecast.replayErrors[d];
      if (!e) continue;
      for (let k = 0; k < steps; k++) {
        const v = e[k]!;
        if (Number.isNaN(v)) continue;
        sum[k]! += sign * v;
        present[k]!++;
      }
    }
    for (let k = 0; k < steps; k++) {
      if (present[k]! >= Math.max(1, MIN_PRESENT * total)) byLead[k]!.push((sum[k]! * total) / present[k]!);
    }
  }
  return byLead;
}

function aggregate(parts: readonly { forecast: SeriesForecast; sign: number }[], task: ForecastTask, stepMs: number, nonNegative: boolean): AggregateForecast {
  const point = new Float64Array(task.steps);
  for (const { forecast, sign } of parts) {
    for (let k = 0; k < task.steps; k++) if (!Number.isNaN(forecast.p50[k]!)) point[k]! += sign * forecast.p50[k]!;
  }
  const band = bandFromErrors(point, aggregateErrors(parts, task.steps), stepMs, nonNegative);
  return { ...band, startMs: task.startMs, stepMs, points: parts.length };
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
  const unavailable: { id: string; kind: SeriesKind; reason: string }[] = [];
  const consumption: { forecast: SeriesForecast; sign: number }[] = [];
  const production: { forecast: SeriesForecast; sign: number }[] = [];
  let stepMs = 15 * 60_000;
  for (const point of points) {
    for (const [kind, forecast] of [['load', point.consumption], ['pv', point.production], ['heat', point.heat]] as const) {
      if (!forecast) continue;
      stepMs = forecast.stepMs;
      if (forecast.model === undefined) unavailable.push({ id: point.id, kind, reason: forecast.unavailable ?? 'no forecast' });
      else if (kind === 'pv') production.push({ forecast, sign: 1 });
      else if (kind === 'load' || !point.heatInConsumption) consumption.push({ forecast, sign: 1 });
    }
  }
  const net = aggregate([...production, ...consumption.map((c) => ({ forecast: c.forecast, sign: -1 }))], task, stepMs, false);
  const surplus: AggregateForecast = {
    ...net,
    p10: net.p10.map((v) => Math.max(0, v)),
    p50: net.p50.map((v) => Math.max(0, v)),
    p90: net.p90.map((v) => Math.max(0, v)),
  };
  return {
    points,
    consumption: aggregate(consumption, task, stepMs, true),
    production: aggregate(production, task, stepMs, true),
    surplus,
    net,
    unavailable,
  };
}

export function forecastCommunity(input: CommunityForecastInput): CommunityForecast {
  return aggregateCommunity(input.task, forecastPoints(input));
}
