import { Type } from 'typebox';
import type { Db } from '../platform/store/db.js';
import { errors, IdParams, IsoDateTime, Uuid, type Api } from '../platform/http/api.js';
import { utf8Body } from '../platform/http/body.js';
import { communityEnergy, memberEnergy, type MemberSavings } from './energy.js';
import { getCo2Settings, listShares, putCo2Settings, putShares } from './settings.js';
import { getCoefficientCoverage, putCoefficients } from './coefficient-uploads.js';

/** A year of hourly coefficients for about 200 supply points. */
const COEFFICIENT_FILE_LIMIT_BYTES = 64 * 1024 * 1024;

const ShareDecimal = Type.String({ pattern: '^(0(\\.\\d{1,9})?|1(\\.0{1,9})?)$', description: 'exact decimal fraction between 0 and 1, at most 9 places, e.g. "0.25"' });
const ShareVersion = Type.Object({
  validFrom: IsoDateTime,
  shares: Type.Array(Type.Object({ memberId: Uuid, share: ShareDecimal })),
});
const SharesPut = Type.Object({
  validFrom: Type.Optional(IsoDateTime),
  shares: Type.Array(Type.Object({ memberId: Uuid, share: ShareDecimal }, { additionalProperties: false }), { maxItems: 10_000 }),
}, { additionalProperties: false });

const Grams = Type.Number({ minimum: 0, maximum: 5_000, description: 'grams of CO2 per kWh of grid energy' });
const Co2Settings = Type.Object({
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
const CoefficientUpload = Type.Object({
  periods: Type.Integer(), periodMinutes: Type.Integer(), from: IsoDateTime, to: IsoDateTime, coefficients: Type.Integer(),
  unmatched: Type.Array(Type.String(), { description: 'ids that are neither a member nor a grid connection id (CUPS) of the community: their part goes to the grid' }),
});
const CoefficientCoverage = Type.Object({
  periods: Type.Integer(), from: Type.Union([IsoDateTime, Type.Null()]), to: Type.Union([IsoDateTime, Type.Null()]), periodMinutes: Type.Array(Type.Integer()),
});

const Resolution = Type.Enum(['15m', '1h', '1d', '1mo']);
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
const Bucket = Type.Object({
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
const MemberEnergy = Type.Object({
  memberId: Uuid,
  communityId: Uuid,
  timeZone: Type.String(),
  resolution: Resolution,
  series: Type.Array(Bucket),
  totals: Type.Object(energyFields),
  savings: Type.Object({ currency: Type.String(), amount: Type.String(), co2AvoidedKg: Type.String() }),
});
const CommunityEnergy = Type.Object({
  communityId: Uuid,
  timeZone: Type.String(),
  resolution: Resolution,
  series: Type.Array(Bucket),
  totals: Type.Object({ ...energyFields, ...Rates }),
  members: Type.Optional(Type.Array(Type.Object({ memberId: Uuid, displayName: Type.String(), totals: Type.Object({ ...energyFields, ...Rates }) }))),
});

export async function sharingRoutes(
  app: Api, { db, sharingChanged, memberSavings }: { db: Db; sharingChanged: () => void; memberSavings: MemberSavings },
): Promise<void> {
  app.get('/api/v1/communities/:id/allocation-shares', {
    schema: { tags: ['sharing'], summary: 'Every version of the static key, newest first (managers)', params: IdParams, response: { 200: Type.Array(ShareVersion), ...errors(401, 403, 404) } },
  }, async (request) => listShares(db, request.principal, request.params.id));

  app.put('/api/v1/communities/:id/allocation-shares', {
    schema: {
      tags: ['sharing'],
      summary: 'Set the static key from a quarter hour on (managers): exact decimal shares per active member, Σ ≤ 1; the quarter hours from then on are split again',
      params: IdParams, body: SharesPut, response: { 200: ShareVersion, ...errors(400, 401, 403, 404) },
    },
  }, async (request) => {
    const version = await putShares(db, request.principal, request.params.id, request.body);
    sharingChanged();
    return version;
  });

  // Coefficient files; not text/plain, which a cross-site form could send (see http/app.ts).
  app.addContentTypeParser('text/csv', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      done(null, utf8Body(request.headers['content-type'], body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.get('/api/v1/communities/:id/allocation-coefficients', {
    schema: { tags: ['sharing'], summary: 'Which periods have time-varying coefficients (managers)', params: IdParams, response: { 200: CoefficientCoverage, ...errors(401, 403, 404) } },
  }, async (request) => getCoefficientCoverage(db, request.principal, request.params.id));

  app.put('/api/v1/communities/:id/allocation-coefficients', {
    bodyLimit: COEFFICIENT_FILE_LIMIT_BYTES,
    schema: {
      tags: ['sharing'],
      summary: 'Upload a coefficient file (as text/csv): Spain\'s "CUPS;hour;coefficient" or Gridshare\'s "member_id,hour_of_year_or_timestamp,coefficient". In the periods it covers its coefficients are the key (replacing earlier uploads for them); those quarter hours are split again (managers)',
      params: IdParams, querystring: CoefficientQuery, body: Type.String({ description: 'the file' }),
      response: { 200: CoefficientUpload, ...errors(400, 401, 403, 404, 413, 415) },
    },
  }, async (request) => {
    const { year, fileName, utcOffset, resolution } = request.query;
    const result = await putCoefficients(db, request.principal, request.params.id, request.body,
      { year, fileName, utcOffsetHours: utcOffset, resolutionMinutes: resolution });
    sharingChanged();
    return result;
  });

  app.get('/api/v1/communities/:id/co2-intensity', {
    schema: { tags: ['sharing'], summary: 'Grid CO2 intensity used for "CO2 avoided" (members)', params: IdParams, response: { 200: Co2Settings, ...errors(401, 404) } },
  }, async (request) => getCo2Settings(db, request.principal, request.params.id));

  app.put('/api/v1/communities/:id/co2-intensity', {
    schema: {
      tags: ['sharing'],
      summary: 'Set the constant grid CO2 intensity and add hourly values (UTC hours; hours without one use the constant) (managers)',
      params: IdParams, body: Co2Put, response: { 200: Co2Settings, ...errors(400, 401, 403, 404) },
    },
  }, async (request) => putCo2Settings(db, request.principal, request.params.id, request.body));

  app.get('/api/v1/members/:id/energy', {
    schema: {
      tags: ['sharing'],
      summary: 'A member\'s energy by source (own PV, community, grid) per 15 minutes, hour, local day or local month, with savings and CO2 avoided',
      params: IdParams, querystring: EnergyQuery, response: { 200: MemberEnergy, ...errors(400, 401, 404) },
    },
  }, async (request) => memberEnergy(db, memberSavings, request.principal, request.params.id, request.query));

  app.get('/api/v1/communities/:id/energy', {
    schema: {
      tags: ['sharing'],
      summary: 'The community\'s energy by source, self-sufficiency and self-consumption rate (members); per-member totals for managers',
      params: IdParams, querystring: EnergyQuery, response: { 200: CommunityEnergy, ...errors(400, 401, 404) },
    },
  }, async (request) => communityEnergy(db, request.principal, request.params.id, request.query));
}
