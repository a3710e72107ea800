import { QUARTER_HOUR_MS } from '../../kernel/time.js';
import { HEAT_DEMAND_MIN_DAYS } from './models/heat-demand.js';
import { createSeries, knownDays, type Series } from './series.js';
import { weatherHas, type WeatherSeries } from './weather.js';

/**
 * A metering point's consumption and production as forecast series (mean W per quarter hour) from
 * its stored quarter-hour energy. Production is the measured PV (a producer without a PV register:
 * its export); consumption is what the site used: import − export + PV + battery discharge −
 * battery charge (at least 0). A prosumer whose PV is not measured has only its import as
 * consumption (what it drew from the grid). A `missing` quarter hour, or no row, is NaN.
 * Heat is the electric power of the site's heat pumps (their own recorded series, known or not
 * whatever the quarter hour's quality); it stays part of consumption (the heat pump is behind the
 * billing meter).
 */
export interface QuarterEnergy {
  readonly startMs: number;
  readonly importWh: number | null;
  readonly exportWh: number | null;
  readonly pvWh: number | null;
  readonly batteryChargeWh: number | null;
  readonly batteryDischargeWh: number | null;
  readonly heatPumpWh: number | null;
  readonly quality: 'measured' | 'estimated' | 'missing';
}

export type PointRole = 'consumer' | 'producer' | 'prosumer';

export interface PointSeriesPair {
  /** Absent for a producer (it consumes nothing worth forecasting). */
  readonly consumption?: Series | undefined;
  /** Absent for a point without PV (no capacity registered, no PV measured, not a producer). */
  readonly production?: Series | undefined;
  /** Absent for a point without a heat-pump figure in the window. */
  readonly heat?: Series | undefined;
}

const W_PER_WH = 3_600_000 / QUARTER_HOUR_MS;

/** The point's series over [fromMs, toMs) (quarter-hour aligned). `hasPv`: PV capacity registered. */
export function pointSeries(rows: readonly QuarterEnergy[], role: PointRole, hasPv: boolean, fromMs: number, toMs: number): PointSeriesPair {
  const steps = Math.max(0, Math.round((toMs - fromMs) / QUARTER_HOUR_MS));
  const consumption = new Float64Array(steps).fill(Number.NaN);
  const production = new Float64Array(steps).fill(Number.NaN);
  const heat = new Float64Array(steps).fill(Number.NaN);
  let pvSeen = false;
  let heatSeen = false;
  for (const r of rows) {
    const i = (r.startMs - fromMs) / QUARTER_HOUR_MS;
    if (i < 0 || i >= steps || !Number.isInteger(i)) continue;
    if (r.heatPumpWh !== null) {
      heatSeen = true;
      heat[i] = r.heatPumpWh * W_PER_WH;
    }
    if (r.quality === 'missing') continue;
    const pv = r.pvWh ?? (role === 'producer' ? r.exportWh : null);
    if (r.pvWh !== null) pvSeen = true;
    if (pv !== null) production[i] = pv * W_PER_WH;
    if (r.importWh === null) continue;
    const used = r.importWh + (pv !== null && role !== 'producer' ? pv - (r.exportWh ?? 0) : 0)
      + (r.batteryDischargeWh ?? 0) - (r.batteryChargeWh ?? 0);
    consumption[i] = Math.max(0, used) * W_PER_WH;
  }
  return {
    consumption: role === 'producer' ? undefined : createSeries(fromMs, QUARTER_HOUR_MS, consumption),
    production: role === 'producer' || hasPv || pvSeen ? createSeries(fromMs, QUARTER_HOUR_MS, production) : undefined,
    heat: heatSeen ? createSeries(fromMs, QUARTER_HOUR_MS, heat) : undefined,
  };
}

/** Less known history than this and a point's series is forecast as a new site's. */
export const MIN_HISTORY_MS = 2 * 24 * 3_600_000;

/**
 * The model for a point's series: `auto` once it has MIN_HISTORY_MS of known values; before that
 * a new site's model (`auto` would pick among replays of hardly any data and leave most targets
 * without a forecast): the standard load profile for consumption, PV physics from the registered
 * kWp for production (without a kWp: `auto`, which forecasts what little history allows).
 */
export function modelForHistory(series: Series, kind: 'consumption' | 'production', kwp: number | undefined): string | undefined {
  let known = 0;
  for (const v of series.values) if (!Number.isNaN(v)) known++;
  if (known * series.stepMs >= MIN_HISTORY_MS) return undefined;
  if (kind === 'consumption') return 'standard-profile';
  return kwp !== undefined ? 'pv-physical' : undefined;
}

/**
 * The model for a heat pump's series: heat demand from the outdoor temperature once the weather
 * has temperatures and the series has the days of history that model needs; before that, or
 * without weather, `auto` among the models that forecast without it (persistence, similar day,
 * regression).
 */
export function modelForHeat(series: Series, weather: WeatherSeries | undefined, atMs: number): string | undefined {
  return weatherHas(weather, 'temperatureC') && knownDays(series, atMs) >= HEAT_DEMAND_MIN_DAYS ? 'heat-demand' : undefined;
}
