/** The platform admins' console (server/src/admin): communities, accounts and the installation's health. */
import { Type, type Static } from 'typebox';
import { defaulted, errors, IdParams, IsoDateTime, nullable, Uuid } from './common.js';
import { User } from './accounts.js';
import { LedgerAudit } from './ledger.js';
import { Community, CommunityCreate } from './registry.js';
import { route } from './route.js';

const Search = Type.String({ maxLength: 120, description: 'part of a name or email, any case; empty: all' });
const Count = Type.Integer({ minimum: 0 });

export const CommunityOverview = Type.Object({
  id: Uuid,
  name: Type.String(),
  timeZone: Type.String(),
  currency: Type.String(),
  isPublic: Type.Boolean(),
  createdAt: IsoDateTime,
  memberCount: Count,
  deviceCount: Count,
  suspension: nullable(Type.Object({ at: IsoDateTime, reason: Type.String() })),
});

export const Account = Type.Object({ ...User.properties, lockedAt: nullable(IsoDateTime) });

const JobName = Type.String({ pattern: '^[a-z][a-z -]{0,63}$' });
const ErrorAt = nullable(Type.Object({ at: IsoDateTime, message: Type.String() }));

export const JobHealth = Type.Object({
  name: Type.String(),
  lagSeconds: Type.Number({ minimum: 0, description: 'age of the oldest work the job has not done yet; 0: nothing waits' }),
  paused: Type.Boolean(),
  running: Type.Boolean(),
  failuresInRow: Count,
  lastPassAt: nullable(IsoDateTime),
  lastSuccessAt: nullable(IsoDateTime),
  lastError: ErrorAt,
});

export const CommunityIngest = Type.Object({
  communityId: Uuid,
  name: Type.String(),
  suspended: Type.Boolean(),
  devices: Count,
  devicesOnline: Count,
  messagesTotal: Count,
  readingsTotal: Count,
  refusedTotal: Count,
  readingsPerMinute: nullable(Type.Number({ minimum: 0, description: 'since the figures were last sampled (at most 15 minutes ago); null: no sample yet' })),
  lastRefusal: ErrorAt,
});

export const Installation = Type.Object({
  version: Type.String(),
  checkedAt: IsoDateTime,
  database: Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('down')]), kind: Type.String(), sizeBytes: nullable(Count) }),
  broker: Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('down')]), mode: Type.String() }),
  dataFolder: Type.Object({ usedBytes: Count, freeBytes: nullable(Count), totalBytes: nullable(Count) }),
  jobs: Type.Array(JobHealth),
  ingest: Type.Array(CommunityIngest),
  connectorsInTrouble: Type.Array(Type.Object({
    id: Uuid, communityId: Uuid, name: Type.String(), kind: Type.String(), failuresInRow: Count,
    lastRunAt: nullable(IsoDateTime), lastError: nullable(Type.Object({ code: Type.String(), message: Type.String() })),
  })),
  ledger: Type.Object({
    entries: Count,
    audit: nullable(LedgerAudit),
    lastCheckpoint: nullable(Type.Object({ size: Count, publishedAt: IsoDateTime })),
  }),
});

export type CommunityOverview = Static<typeof CommunityOverview>;
export type Account = Static<typeof Account>;
export type Installation = Static<typeof Installation>;
export type JobHealth = Static<typeof JobHealth>;

const JobParams = Type.Object({ name: JobName });
const ADMINS = '(platform admins)';

export const adminRoutes = {
  adminCommunities: route('GET', '/api/v1/admin/communities', {
    tags: ['admin'], summary: `Every community with its members, devices and suspension ${ADMINS}`,
    querystring: Type.Object({ q: Type.Optional(Search) }, { additionalProperties: false }),
    response: { 200: Type.Array(CommunityOverview), ...errors(400, 401, 403) },
  }),
  adminCreateCommunity: route('POST', '/api/v1/admin/communities', {
    tags: ['admin'], summary: `Create a community managed by an existing account ${ADMINS}`,
    body: Type.Object({ ...CommunityCreate.properties, managerEmail: Type.String({ format: 'email', maxLength: 254 }) }, { additionalProperties: false }),
    response: { 201: Community, ...errors(400, 401, 403) },
  }),
  suspendCommunity: route('POST', '/api/v1/admin/communities/:id/suspend', {
    tags: ['admin'],
    summary: `Suspend a community: its members, managers and devices are refused until it is resumed; its data stays ${ADMINS}`,
    params: IdParams,
    body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }, { additionalProperties: false }),
    response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
  }),
  resumeCommunity: route('POST', '/api/v1/admin/communities/:id/resume', {
    tags: ['admin'], summary: `Resume a suspended community ${ADMINS}`, params: IdParams, response: { 204: Type.Null(), ...errors(401, 403, 404) },
  }),
  adminUsers: route('GET', '/api/v1/admin/users', {
    tags: ['admin'], summary: `Accounts whose email or name contains the text, by email ${ADMINS}`,
    querystring: Type.Object({
      q: Type.Optional(Search),
      limit: defaulted(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    }, { additionalProperties: false }),
    response: { 200: Type.Object({ accounts: Type.Array(Account), total: Count }), ...errors(400, 401, 403) },
  }),
  lockUser: route('POST', '/api/v1/admin/users/:id/lock', {
    tags: ['admin'], summary: `Lock an account: it cannot log in, its sessions end and its API tokens are revoked (not one's own) ${ADMINS}`,
    params: IdParams, response: { 204: Type.Null(), ...errors(401, 403, 404, 409) },
  }),
  unlockUser: route('POST', '/api/v1/admin/users/:id/unlock', {
    tags: ['admin'], summary: `Unlock an account ${ADMINS}`, params: IdParams, response: { 204: Type.Null(), ...errors(401, 403, 404) },
  }),
  setPlatformAdmin: route('PUT', '/api/v1/admin/users/:id/admin', {
    tags: ['admin'], summary: `Grant or revoke platform administration (not one's own) ${ADMINS}`,
    params: IdParams, body: Type.Object({ isAdmin: Type.Boolean() }, { additionalProperties: false }),
    response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 409) },
  }),
  installation: route('GET', '/api/v1/admin/installation', {
    tags: ['admin'],
    summary: `The installation's health: database, broker, data folder, version, every background job, ingest per community, connectors in trouble, the verifiable record ${ADMINS}`,
    response: { 200: Installation, ...errors(401, 403) },
  }),
  pauseJob: route('POST', '/api/v1/admin/jobs/:name/pause', {
    tags: ['admin'], summary: `Pause a background job in this process: its work waits (its lag grows) until it is resumed ${ADMINS}`,
    params: JobParams, response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
  }),
  resumeJob: route('POST', '/api/v1/admin/jobs/:name/resume', {
    tags: ['admin'], summary: `Resume a paused background job ${ADMINS}`, params: JobParams, response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
  }),
};
