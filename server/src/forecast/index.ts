/**
 * Forecasting: the public API other capabilities and the composition root use. Importing it
 * registers every model.
 */
import './domain/models/index.js';

export { createForecastCalendar, countryOfTimeZone, DAY_TYPES, type DayType, type ForecastCalendar } from './domain/calendar.js';
export { createSeries, knownBefore, valueAt, type Series, type KnownHistory } from './domain/series.js';
export { parseTimeColumns, CsvInputError, type TimeColumns } from './domain/time-csv.js';
export {
  SERIES_KINDS, type SeriesKind, type SiteContext, type Location, type PvSystem, type HeatPumpSpec, type StandardProfileName,
  type ModelAdapter, type FittedModel, type FitInput, type ModelInput, type ModelNeeds,
} from './domain/model.js';
export { AUTO, REFERENCE_MODEL, getModel, modelNames, modelsFor, registerModel, requireModel } from './domain/registry.js';
export { tasksBetween, dayAheadTask, shiftTask, HORIZONS, type ForecastTask, type HorizonName } from './domain/tasks.js';
export { bandFromErrors, type Band } from './domain/conformal.js';
export { AccuracyAccumulator, accuracyOf, type Accuracy } from './domain/metrics.js';
export { runBacktest, MAX_WARM_UP_DAYS, type BacktestInput, type BacktestResult } from './domain/backtest.js';
export { forecastSeries, type SeriesForecast, type SeriesForecastInput } from './domain/forecast.js';
export { aggregateCommunity, forecastCommunity, forecastPoints, type PointForecast, type CommunityForecast, type CommunityForecastInput, type CommunityPoint, type AggregateForecast } from './domain/community.js';
export { parseOpenMeteo, parseWeatherCsv, weatherAt, type WeatherSeries } from './domain/weather.js';
export { heatPumpCop, flowTemperatureC, heatFromElectricW, electricFromHeatW } from './domain/heat-pump.js';
export { pvPowerW, clearSkyGhi, fillNightGaps } from './domain/solar.js';
export { calibratePv } from './domain/pv-calibration.js';
export { profilePowerPerKwh } from './domain/standard-profile.js';
export { createOpenMeteoClient, WeatherSourceError, type WeatherClient, type WeatherRequest } from './weather-client.js';

export { registerForecastCommand } from './commands.js';
export { FORECAST_JOB, forecastJob, registerForecastMetrics, subscribeForecast, type ForecastJob, type ForecastJobOptions } from './job.js';
export { forecastRoutes } from './routes.js';
export { expectedNetWh } from './outlook.js';
export { pointForecastsP50 } from './service.js';
