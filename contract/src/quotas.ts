/** Limits for everyone, per account and per community (server/src/quotas). */
import { Type } from 'typebox';
import { errors, IdParams } from './common.js';
import { route } from './route.js';

const Limit = Type.Integer({ minimum: 0, maximum: 1_000_000 });
/** In a change, null puts a limit back to what applies to everyone (or to the installation's default). */
const Change = Type.Optional(Type.Union([Limit, Type.Null()]));
const changeOptions = { additionalProperties: false, minProperties: 1 };

const PlatformLimits = Type.Object({ communitiesPerUser: Limit, devicesPerCommunity: Limit, batchesPerHour: Limit });
const PlatformChange = Type.Object({ communitiesPerUser: Change, devicesPerCommunity: Change, batchesPerHour: Change }, changeOptions);
const UserLimits = Type.Object({ communitiesPerUser: Limit, batchesPerHour: Limit });
const UserChange = Type.Object({ communitiesPerUser: Change, batchesPerHour: Change }, changeOptions);
const CommunityLimits = Type.Object({ devicesPerCommunity: Limit });
const CommunityChange = Type.Object({ devicesPerCommunity: Change }, changeOptions);
const GRANTS_NOTE = { description: 'limits set for this subject alone; the others are everyone\'s' };
const UserQuotas = Type.Object({ limits: UserLimits, grants: Type.Partial(UserLimits, GRANTS_NOTE) });
const CommunityQuotas = Type.Object({ limits: CommunityLimits, grants: Type.Partial(CommunityLimits, GRANTS_NOTE) });

export const quotaRoutes = {
  platformQuotas: route('GET', '/api/v1/quotas', {
    tags: ['quotas'], summary: 'The limits for everyone (platform admins)', response: { 200: PlatformLimits, ...errors(401, 403) },
  }),
  setPlatformQuotas: route('PATCH', '/api/v1/quotas', {
    tags: ['quotas'], summary: 'Change limits for everyone; null restores the installation default (platform admins)', body: PlatformChange, response: { 200: PlatformLimits, ...errors(400, 401, 403) },
  }),
  userQuotas: route('GET', '/api/v1/users/:id/quotas', {
    tags: ['quotas'], summary: 'The limits of one account (the account itself, platform admins)', params: IdParams, response: { 200: UserQuotas, ...errors(401, 404) },
  }),
  setUserQuotas: route('PATCH', '/api/v1/users/:id/quotas', {
    tags: ['quotas'], summary: 'Raise or lower limits for one account; null: back to everyone\'s (platform admins)', params: IdParams, body: UserChange, response: { 200: UserQuotas, ...errors(400, 401, 403, 404) },
  }),
  communityQuotas: route('GET', '/api/v1/communities/:id/quotas', {
    tags: ['quotas'], summary: 'The limits of one community (its managers, platform admins)', params: IdParams, response: { 200: CommunityQuotas, ...errors(401, 403, 404) },
  }),
  setCommunityQuotas: route('PATCH', '/api/v1/communities/:id/quotas', {
    tags: ['quotas'], summary: 'Raise or lower limits for one community; null: back to everyone\'s (platform admins)', params: IdParams, body: CommunityChange, response: { 200: CommunityQuotas, ...errors(400, 401, 403, 404) },
  }),
};
