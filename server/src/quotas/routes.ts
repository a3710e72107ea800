import { Type } from 'typebox';
import type { Db } from '../platform/store/db.js';
import { errors, IdParams, type Api } from '../platform/http/api.js';
import { requireAdmin, requireUser } from '../accounts/index.js';
import { getUser } from '../accounts/index.js';
import { requireCommunityManager } from '../registry/index.js';
import { NotFoundError } from '../kernel/errors.js';
import { COMMUNITY_QUOTA_NAMES, USER_QUOTA_NAMES, type QuotaName, type Quotas } from './service.js';

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

export async function quotaRoutes(app: Api, { db, quotas }: { db: Db; quotas: Quotas }): Promise<void> {
  /** The limits that apply to one user or community, and which of them were set for it alone. */
  const subjectQuotas = async <N extends QuotaName>(subject: 'user' | 'community', id: string, names: readonly N[]) => {
    const [everyone, grants] = await Promise.all([quotas.platformLimits(db), quotas.grants(db, subject, id)]);
    const limits = {} as Record<N, number>;
    const own: Partial<Record<N, number>> = {};
    for (const name of names) {
      limits[name] = grants[name] ?? everyone[name];
      if (grants[name] !== undefined) own[name] = grants[name];
    }
    return { limits, grants: own };
  };

  app.get('/api/v1/quotas', {
    schema: { tags: ['quotas'], summary: 'The limits for everyone (platform admins)', response: { 200: PlatformLimits, ...errors(401, 403) } },
  }, async (request) => {
    requireAdmin(request.principal);
    return quotas.platformLimits(db);
  });

  app.patch('/api/v1/quotas', {
    schema: { tags: ['quotas'], summary: 'Change limits for everyone; null restores the installation default (platform admins)', body: PlatformChange, response: { 200: PlatformLimits, ...errors(400, 401, 403) } },
  }, async (request) => quotas.setPlatformLimits(db, requireAdmin(request.principal).userId, request.body));

  app.get('/api/v1/users/:id/quotas', {
    schema: { tags: ['quotas'], summary: 'The limits of one account (the account itself, platform admins)', params: IdParams, response: { 200: UserQuotas, ...errors(401, 404) } },
  }, async (request) => {
    const user = requireUser(request.principal);
    if (!user.isAdmin && user.userId !== request.params.id) throw new NotFoundError('user');
    await getUser(db, request.params.id);
    return subjectQuotas('user', request.params.id, USER_QUOTA_NAMES);
  });

  app.patch('/api/v1/users/:id/quotas', {
    schema: { tags: ['quotas'], summary: 'Raise or lower limits for one account; null: back to everyone\'s (platform admins)', params: IdParams, body: UserChange, response: { 200: UserQuotas, ...errors(400, 401, 403, 404) } },
  }, async (request) => {
    const admin = requireAdmin(request.principal);
    await getUser(db, request.params.id);
    await quotas.setGrants(db, admin.userId, 'user', request.params.id, request.body);
    return subjectQuotas('user', request.params.id, USER_QUOTA_NAMES);
  });

  app.get('/api/v1/communities/:id/quotas', {
    schema: { tags: ['quotas'], summary: 'The limits of one community (its managers, platform admins)', params: IdParams, response: { 200: CommunityQuotas, ...errors(401, 403, 404) } },
  }, async (request) => {
    await requireCommunityManager(db, request.principal, request.params.id);
    return subjectQuotas('community', request.params.id, COMMUNITY_QUOTA_NAMES);
  });

  app.patch('/api/v1/communities/:id/quotas', {
    schema: { tags: ['quotas'], summary: 'Raise or lower limits for one community; null: back to everyone\'s (platform admins)', params: IdParams, body: CommunityChange, response: { 200: CommunityQuotas, ...errors(400, 401, 403, 404) } },
  }, async (request) => {
    const admin = requireAdmin(request.principal);
    await requireCommunityManager(db, request.principal, request.params.id);
    await quotas.setGrants(db, admin.userId, 'community', request.params.id, request.body);
    return subjectQuotas('community', request.params.id, COMMUNITY_QUOTA_NAMES);
  });
}
