/** Forecasts of consumption, production and community surplus with their bands, their accuracy, best hours, the weather source (server/src/forecast). */
import { Type, type Static } from 'typebox';
import { errors, IdParams, IsoDateTime, nullable, Uuid } from './common.js';
import { route } from './route.js';

export const ForecastKind = Type.Enum(['consumption', 'production', 'heat', 'surplus']);
export const ForecastHorizon = Type.Enum(['intraday', 'day-ahead']);

const ForecastQuery = Type.Object({
  from: IsoDateTime,
  to: IsoDateTime,
  resolution: Type.Optional(Type.Union([Type.Literal(15), Type.Literal(60)], { description: 'minutes per value (default 15); hourly values are means of the quarter hours' })),
  quantiles: Type.Optional(Type.String({ pattern: '^(p10|p50|p90)(,(p10|p50|p90))*$', description: 'which quantiles to return, e.g. "p50" or "p10,p50,p90" (default all three)' })),
  horizon: Type.Optional(ForecastHorizon),
}, { additionalProperties: false });

const Watts = nullable(Type.Integer({ description: 'mean power over the interval, W' }));
export const ForecastValue = Type.Object({
  start: IsoDateTime,
  p10W: Type.Optional(Watts),
  p50W: Type.Optional(Watts),
  p90W: Type.Optional(Watts),
});
export const ForecastSeries = Type.Object({
  kind: ForecastKind,
  models: Type.Array(Type.String(), { description: 'the models behind the values (community aggregates: community-sum)' }),
  issuedAt: nullable(IsoDateTime),
  values: Type.Array(ForecastValue),
});
export const Forecast = Type.Object({
  id: Uuid,
  timeZone: Type.String(),
  from: IsoDateTime,
  to: IsoDateTime,
  resolution: Type.Integer(),
  series: Type.Array(ForecastSeries, { description: 'each target takes the newest forecast issued for it (of the horizon asked for, else either); null where none covers it' }),
});

export const AccuracyRow = Type.Object({
  seriesId: Uuid,
  scope: Type.Enum(['point', 'community']),
  name: Type.String({ description: 'the metering point\'s name, or the community\'s' }),
  kind: ForecastKind,
  model: Type.String(),
  horizon: ForecastHorizon,
  count: Type.Integer({ description: 'forecast values compared with an outcome' }),
  maeW: nullable(Type.Number()),
  rmseW: nullable(Type.Number()),
  nrmse: nullable(Type.Number({ description: 'RMSE ÷ mean outcome' })),
  skill: nullable(Type.Number({ description: '1 − RMSE / RMSE of persistence (same quarter hour a day earlier); above 0 beats persistence' })),
  coverage: nullable(Type.Number({ description: 'share of outcomes inside P10–P90 (ideally 0.8)' })),
});
export const ForecastAccuracy = Type.Object({
  days: Type.Integer({ description: 'rolling window, days' }),
  rows: Type.Array(AccuracyRow),
});

const Window = { start: IsoDateTime, end: IsoDateTime };
export const BestHours = Type.Object({
  memberId: Uuid,
  communityId: Uuid,
  timeZone: Type.String(),
  from: IsoDateTime,
  to: IsoDateTime,
  surplus: Type.Array(Type.Object({ ...Window, surplusWh: Type.Integer(), peakW: Type.Integer() }), { description: 'windows of expected community surplus' }),
  cheapest: Type.Array(Type.Object({ ...Window, gridPrice: Type.String() }), { description: 'windows of the cheapest time-of-use grid price, where the tariff has them' }),
  recommendation: nullable(Type.Object({ ...Window, reason: Type.Enum(['surplus', 'tariff', 'own-production'], { description: 'surplus: the window with the most expected community surplus; tariff: the cheapest time-of-use price; own-production: no surplus expected, the two hours in which the community\'s own production covers most of its use' }) })),
});

export const WeatherSource = Type.Object({
  url: nullable(Type.String()),
  lastFetchedAt: nullable(IsoDateTime),
});
const WeatherSourcePut = Type.Object({
  url: nullable(Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 500, description: 'base URL of a server answering like Open-Meteo (/v1/forecast), e.g. https://api.open-meteo.com; null: none' })),
}, { additionalProperties: false });

export type ForecastKind = Static<typeof ForecastKind>;
export type ForecastHorizon = Static<typeof ForecastHorizon>;
export type Forecast = Static<typeof Forecast>;
export type ForecastSeries = Static<typeof ForecastSeries>;
export type ForecastValue = Static<typeof ForecastValue>;
export type AccuracyRow = Static<typeof AccuracyRow>;
export type ForecastAccuracy = Static<typeof ForecastAccuracy>;
export type BestHours = Static<typeof BestHours>;
export type WeatherSource = Static<typeof WeatherSource>;

export const forecastRoutes = {
  meteringPointForecast: route('GET', '/api/v1/metering-points/:id/forecast', {
    tags: ['forecast'], summary: 'A metering point\'s consumption and production forecast with P10/P50/P90 (its member, managers)',
    params: IdParams, querystring: ForecastQuery, response: { 200: Forecast, ...errors(400, 401, 404) },
  }),
  communityForecast: route('GET', '/api/v1/communities/:id/forecast', {
    tags: ['forecast'], summary: 'The community\'s consumption, production and surplus forecast with P10/P50/P90 (members)',
    params: IdParams, querystring: ForecastQuery, response: { 200: Forecast, ...errors(400, 401, 404) },
  }),
  communityForecastAccuracy: route('GET', '/api/v1/communities/:id/forecast-accuracy', {
    tags: ['forecast'], summary: 'Rolling 30-day accuracy of the community\'s and its points\' forecasts per model and horizon (managers)',
    params: IdParams, response: { 200: ForecastAccuracy, ...errors(401, 403, 404) },
  }),
  meteringPointForecastAccuracy: route('GET', '/api/v1/metering-points/:id/forecast-accuracy', {
    tags: ['forecast'], summary: 'Rolling 30-day accuracy of a metering point\'s forecasts (its member, managers)',
    params: IdParams, response: { 200: ForecastAccuracy, ...errors(401, 404) },
  }),
  memberBestHours: route('GET', '/api/v1/members/:id/best-hours', {
    tags: ['forecast'], summary: 'When to use energy, from now to the end of tomorrow: windows of expected community surplus and of the cheapest tariff, and a recommendation',
    params: IdParams, response: { 200: BestHours, ...errors(401, 404) },
  }),
  weatherSource: route('GET', '/api/v1/communities/:id/weather-source', {
    tags: ['forecast'], summary: 'The community\'s weather source for forecasts (managers)',
    params: IdParams, response: { 200: WeatherSource, ...errors(401, 403, 404) },
  }),
  putWeatherSource: route('PUT', '/api/v1/communities/:id/weather-source', {
    tags: ['forecast'], summary: 'Set or remove (null) the community\'s weather source: an HTTP server in the Open-Meteo format (managers)',
    params: IdParams, body: WeatherSourcePut, response: { 200: WeatherSource, ...errors(400, 401, 403, 404) },
  }),
};
