/** Finding and comparing communities, open to everyone (server/src/discovery). */
import { Type, type Static } from 'typebox';
import { defaulted, errors, Uuid } from './common.js';
import { Community } from './registry.js';
import { route } from './route.js';

/** How many communities one comparison takes. */
export const MAX_COMPARED = 5;

export const CommunityListing = Type.Intersect([Community, Type.Object({ distanceKm: Type.Union([Type.Number(), Type.Null()]), memberCount: Type.Integer() })]);

export const Comparison = Type.Object({
  community: Community,
  memberCount: Type.Integer(),
  producerCount: Type.Integer(),
  productionCapacityW: Type.Integer(),
  batteryCapacityWh: Type.Integer(),
  prices: Type.Union([Type.Object({ grid: Type.String(), community: Type.String(), feedIn: Type.String() }), Type.Null()]),
  renewableShare: Type.Union([Type.Number(), Type.Null()]),
});

export type CommunityListing = Static<typeof CommunityListing>;
export type Comparison = Static<typeof Comparison>;

export const discoveryRoutes = {
  searchCommunities: route('GET', '/api/v1/communities', {
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
      limit: defaulted(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
      offset: defaulted(Type.Integer({ minimum: 0, maximum: 100_000, default: 0 })),
    }, { additionalProperties: false }),
    response: { 200: Type.Array(CommunityListing), ...errors(400) },
  }),
  compareCommunities: route('GET', '/api/v1/communities/compare', {
    tags: ['discovery'],
    summary: `Compare up to ${MAX_COMPARED} communities side by side`,
    security: [],
    querystring: Type.Object({ ids: Type.Array(Uuid, { minItems: 1, maxItems: MAX_COMPARED }) }, { additionalProperties: false }),
    response: { 200: Type.Array(Comparison), ...errors(400, 404) },
  }),
};
