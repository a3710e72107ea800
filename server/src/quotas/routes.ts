import type { Db } from '../platform/store/db.js';
import type { Api } from '../platform/http/api.js';
import type { EventPublisher } from '../platform/events/index.js';
import { requireAdmin, requireUser, getUser } from '../accounts/index.js';
import type { Principal } from '../kernel/principal.js';
import { NotFoundError } from '../kernel/errors.js';
import { quotaRoutes as contract } from '@gridshare/contract/quotas';
import { COMMUNITY_QUOTA_NAMES, USER_QUOTA_NAMES, type QuotaName, type Quotas } from './service.js';

export interface QuotaRouteOptions {
  db: Db;
  quotas: Quotas;
  /** Where changes of the limits go on the audit trail. */
  events: EventPublisher;
  /** Refuses anyone but a manager of the community (the registry knows; quotas only asks). */
  requireCommunityManager: (principal: Principal, communityId: string) => Promise<unknown>;
}

export async function quotaRoutes(app: Api, { db, quotas, events, requireCommunityManager }: QuotaRouteOptions): Promise<void> {
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

  app.get(contract.platformQuotas.path, { schema: contract.platformQuotas.schema }, async (request) => {
    requireAdmin(request.principal);
    return quotas.platformLimits(db);
  });

  app.patch(contract.setPlatformQuotas.path, { schema: contract.setPlatformQuotas.schema }, async (request) => quotas.setPlatformLimits(db, events, requireAdmin(request.principal).userId, request.body));

  app.get(contract.userQuotas.path, { schema: contract.userQuotas.schema }, async (request) => {
    const user = requireUser(request.principal);
    if (!user.isAdmin && user.userId !== request.params.id) throw new NotFoundError('user');
    await getUser(db, request.params.id);
    return subjectQuotas('user', request.params.id, USER_QUOTA_NAMES);
  });

  app.patch(contract.setUserQuotas.path, { schema: contract.setUserQuotas.schema }, async (request) => {
    const admin = requireAdmin(request.principal);
    await getUser(db, request.params.id);
    await quotas.setGrants(db, events, admin.userId, 'user', request.params.id, request.body);
    return subjectQuotas('user', request.params.id, USER_QUOTA_NAMES);
  });

  app.get(contract.communityQuotas.path, { schema: contract.communityQuotas.schema }, async (request) => {
    await requireCommunityManager(request.principal, request.params.id);
    return subjectQuotas('community', request.params.id, COMMUNITY_QUOTA_NAMES);
  });

  app.patch(contract.setCommunityQuotas.path, { schema: contract.setCommunityQuotas.schema }, async (request) => {
    const admin = requireAdmin(request.principal);
    await requireCommunityManager(request.principal, request.params.id);
    await quotas.setGrants(db, events, admin.userId, 'community', request.params.id, request.body);
    return subjectQuotas('community', request.params.id, COMMUNITY_QUOTA_NAMES);
  });
}
