/** Energy by source, the allocation key, coefficient files and CO2 intensity (server/src/sharing). */
import { Type, type Static } from 'typebox';
import { errors, IdParams, IsoDateTime, Uuid } from './common.js';
import { route } from './route.js';

const ShareDecimal = Type.String({ pattern: '^(0(\\.\\d{1,9})?|1(\\.0{1,9})?)$', description: 'exact decimal fraction between 0 and 1, at most 9 places, e.g. "0.25"' });
export const ShareVersion = Type.Object({
  validFrom: IsoDateTime,
  shares: Type.Array(Type.Object({ memberId: Uuid, share: ShareDecimal })),
});
const SharesPut = Type.Object({
  validFrom: Type.Optional(IsoDateTime),
  shares: Type.Array(Type.Object({ memberId: Uuid, share: ShareDecimal }, { additionalProperties: false }), { maxItems: 10_000 }),
}, { additionalProperties: false });

const Grams = Type.Number({ minimum: 0, maximum: 5_000, description: 'grams of CO2 per kWh of grid energy' });
export const Co2Settings = Type.Object({
  gramsPerKWh: Type.Union([Type.Number(), Type.Null()]),
  hourly: Type.Object({ hours: Type.Integer(), from: Type.Union([IsoDateTime, Type.Null()]), to: Type.Union([IsoDateTime, Type.Null()]) }),
});
const Co2Put = Type.Object({
  gramsPerKWh: Grams,
  hourly: Type.Optional(Type.Array(Type.Object({ hour: IsoDateTime, gramsPerKWh: Grams }, { additionalProperties: false }), { maxItems: 2_000 })),
}, { additionalProperties: false });

const CoefficientQuery = Type.Object({
  year: Type.Optional(Type.Integer({ minimum: 2000, maximum: 2100, description: 'year of hour-of-year rows (default: from fileName <CAU>_<year>.txt)' })),
  fileName: Type.Optional(Type.String({ maxLength: 200, description: 'the file\'s name, to read the year from' })),
  utcOffset: Type.Optional(Type.Integer({ minimum: -14, maximum: 14, description: 'local time\'s offset on 1 January in hours (Spain 1, Canaries 0; default 1)' })),
  resolution: Type.Optional(Type.Union([Type.Literal(15), Type.Literal(30), Type.Literal(60)], { description: 'minutes per row for timestamped rows (default 60)' })),
}, { additionalProperties: false });
export const CoefficientUpload = Type.Object({
  periods: Type.Integer(), periodMinutes: Type.Integer(), from: IsoDateTime, to: IsoDateTime, coefficients: Type.Integer(),
  unmatched: Type.Array(Type.String(), { description: 'ids that are neither a member nor a grid connection id (CUPS) of the community: their part goes to the grid' }),
});
export const CoefficientCoverage = Type.Object({
  periods: Type.Integer(), from: Type.Union([IsoDateTime, Type.Null()]), to: Type.Union([IsoDateTime, Type.Null()]), periodMinutes: Type.Array(Type.Integer()),
});

export const Resolution = Type.Enum(['15m', '1h', '1d', '1mo']);
/** The longest range of one energy request per resolution, in days, so one request stays bounded (quarter hours read ≤ ~110,000). */
export const ENERGY_MAX_RANGE_DAYS = { '15m': 93, '1h': 366, '1d': 1_100, '1mo': 1_100 } as const satisfies Record<Static<typeof Resolution>, number>;
const EnergyQuery = Type.Object({ from: IsoDateTime, to: IsoDateTime, resolution: Resolution }, { additionalProperties: false });
const energyFields = {
  consumptionWh: Type.Integer(),
  selfConsumedWh: Type.Integer(),
  fromCommunityWh: Type.Integer(),
  fromGridWh: Type.Integer(),
  productionWh: Type.Integer(),
  toCommunityWh: Type.Integer(),
  toGridWh: Type.Integer(),
};
export const EnergyFigures = Type.Object(energyFields);
export const EnergyBucket = Type.Object({
  start: IsoDateTime,
  end: IsoDateTime,
  ...energyFields,
  quality: Type.Enum(['measured', 'estimated', 'missing', 'partial']),
  provisional: Type.Boolean({ description: 'the split was made while some member\'s data was missing; it is redone when the data arrives' }),
});
const Rates = {
  selfSufficiency: Type.Union([Type.Number(), Type.Null()]),
  selfConsumptionRate: Type.Union([Type.Number(), Type.Null()]),
};
export const MemberEnergy = Type.Object({
  memberId: Uuid,
  communityId: Uuid,
  timeZone: Type.String(),
  resolution: Resolution,
  series: Type.Array(EnergyBucket),
  totals: EnergyFigures,
  savings: Type.Object({ currency: Type.String(), amount: Type.String(), co2AvoidedKg: Type.String() }),
});
export const CommunityEnergy = Type.Object({
  communityId: Uuid,
  timeZone: Type.String(),
  resolution: Resolution,
  series: Type.Array(EnergyBucket),
  totals: Type.Object({ ...energyFields, ...Rates }),
  members: Type.Optional(Type.Array(Type.Object({ memberId: Uuid, displayName: Type.String(), totals: Type.Object({ ...energyFields, ...Rates }) }))),
  /** Managers: the community batteries, each its own row (the community's, not its holder's), by metering point. */
  batteries: Type.Optional(Type.Array(Type.Object({ meteringPointId: Uuid, name: Type.String(), holderId: Uuid, totals: Type.Object({ ...energyFields, ...Rates }) }))),
});

export type Resolution = Static<typeof Resolution>;
export type EnergyFigures = Static<typeof EnergyFigures>;
export type EnergyBucket = Static<typeof EnergyBucket>;
export type Quality = EnergyBucket['quality'];
export type MemberEnergy = Static<typeof MemberEnergy>;
export type CommunityEnergy = Static<typeof CommunityEnergy>;
export type ShareVersion = Static<typeof ShareVersion>;
export type Co2Settings = Static<typeof Co2Settings>;
export type CoefficientUpload = Static<typeof CoefficientUpload>;
export type CoefficientCoverage = Static<typeof CoefficientCoverage>;

export const sharingRoutes = {
  listShares: route('GET', '/api/v1/communities/:id/allocation-shares', {
    tags: ['sharing'], summary: 'Every version of the static key, newest first (managers)', params: IdParams, response: { 200: Type.Array(ShareVersion), ...errors(401, 403, 404) },
  }),
  putShares: route('PUT', '/api/v1/communities/:id/allocation-shares', {
    tags: ['sharing'],
    summary: 'Set the static key from a quarter hour on (managers): exact decimal shares per active member, Σ ≤ 1; the quarter hours from then on are split again',
    params: IdParams, body: SharesPut, response: { 200: ShareVersion, ...errors(400, 401, 403, 404) },
  }),
  coefficientCoverage: route('GET', '/api/v1/communities/:id/allocation-coefficients', {
    tags: ['sharing'], summary: 'Which periods have time-varying coefficients (managers)', params: IdParams, response: { 200: CoefficientCoverage, ...errors(401, 403, 404) },
  }),
  putCoefficients: route('PUT', '/api/v1/communities/:id/allocation-coefficients', {
    tags: ['sharing'],
    summary: 'Upload a coefficient file (as text/csv): Spain\'s "CUPS;hour;coefficient" or Gridshare\'s "member_id,hour_of_year_or_timestamp,coefficient". In the periods it covers its coefficients are the key (replacing earlier uploads for them); those quarter hours are split again (managers)',
    params: IdParams, querystring: CoefficientQuery, body: Type.String({ description: 'the file' }),
    response: { 200: CoefficientUpload, ...errors(400, 401, 403, 404, 413, 415) },
  }),
  co2Intensity: route('GET', '/api/v1/communities/:id/co2-intensity', {
    tags: ['sharing'], summary: 'Grid CO2 intensity used for "CO2 avoided" (members)', params: IdParams, response: { 200: Co2Settings, ...errors(401, 404) },
  }),
  putCo2Intensity: route('PUT', '/api/v1/communities/:id/co2-intensity', {
    tags: ['sharing'],
    summary: 'Set the constant grid CO2 intensity and add hourly values (UTC hours; hours without one use the constant) (managers)',
    params: IdParams, body: Co2Put, response: { 200: Co2Settings, ...errors(400, 401, 403, 404) },
  }),
  memberEnergy: route('GET', '/api/v1/members/:id/energy', {
    tags: ['sharing'],
    summary: 'A member\'s energy by source (own PV, community, grid) per 15 minutes, hour, local day or local month, with savings and CO2 avoided',
    params: IdParams, querystring: EnergyQuery, response: { 200: MemberEnergy, ...errors(400, 401, 404) },
  }),
  memberEnergyCsv: route('GET', '/api/v1/members/:id/energy.csv', {
    tags: ['sharing'],
    summary: 'A member\'s energy by source as a CSV file (RFC 4180 with a header row): per bucket its start and end in local ISO 8601 with the offset, the seven figures in whole Wh, quality and provisional; only the buckets that have begun, and a range that begins in the future is refused',
    params: IdParams, querystring: EnergyQuery, produces: ['text/csv'], response: errors(400, 401, 404),
  }),
  communityEnergy: route('GET', '/api/v1/communities/:id/energy', {
    tags: ['sharing'],
    summary: 'The community\'s energy by source, self-sufficiency and self-consumption rate (members); per-member totals for managers',
    params: IdParams, querystring: EnergyQuery, response: { 200: CommunityEnergy, ...errors(400, 401, 404) },
  }),
};
