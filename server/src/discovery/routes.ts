import { Type } from 'typebox';
import type { Db } from '../platform/store/db.js';
import { errors, Uuid, type Api } from '../platform/http/api.js';
import { CommunitySchema as Community } from '../registry/index.js';
import { compareCommunities, MAX_COMPARED, searchCommunities } from './service.js';
import { BadRequestError } from '../kernel/errors.js';

const Listing = Type.Intersect([Community, Type.Object({ distanceKm: Type.Union([Type.Number(), Type.Null()]), memberCount: Type.Integer() })]);

const Comparison = Type.Object({
  community: Community,
  memberCount: Type.Integer(),
  producerCount: Type.Integer(),
  productionCapacityW: Type.Integer(),
  batteryCapacityWh: Type.Integer(),
  prices: Type.Union([Type.Object({ grid: Type.String(), community: Type.String(), feedIn: Type.String() }), Type.Null()]),
  renewableShare: Type.Union([Type.Number(), Type.Null()]),
});

export async function discoveryRoutes(app: Api, { db }: { db: Db }): Promise<void> {
  app.get('/api/v1/communities', {
    schema: {
      tags: ['discovery'],
      summary: 'Find communities: by name, postcode, grid area or distance from a point',
      security: [],
      querystring: Type.Object({
        q: Type.Optional(Type.String({ maxLength: 100 })),
        postcode: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9 -]{1,16}$' })),
        gridArea: Type.Optional(Type.String({ maxLength: 64 })),
        lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
        lon: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
        radiusKm: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 20_000 })),
        limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
        offset: Type.Integer({ minimum: 0, maximum: 100_000, default: 0 }),
      }, { additionalProperties: false }),
      response: { 200: Type.Array(Listing), ...errors(400) },
    },
  }, async (request) => {
    const { lat, lon, ...rest } = request.query;
    if ((lat === undefined) !== (lon === undefined)) {
      throw new BadRequestError('querystring/lat: lat and lon go together', 'querystring/lat');
    }
    const near = lat !== undefined && lon !== undefined ? { latitude: lat, longitude: lon } : undefined;
    return searchCommunities(db, request.principal, { ...rest, near });
  });

  app.get('/api/v1/communities/compare', {
    schema: {
      tags: ['discovery'],
      summary: `Compare up to ${MAX_COMPARED} communities side by side`,
      security: [],
      querystring: Type.Object({ ids: Type.Array(Uuid, { minItems: 1, maxItems: MAX_COMPARED }) }, { additionalProperties: false }),
      response: { 200: Type.Array(Comparison), ...errors(400, 404) },
    },
  }, async (request) => compareCommunities(db, request.principal, request.query.ids));
}
