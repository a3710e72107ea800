import type { Db } from '../platform/store/db.js';
import type { Api } from '../platform/http/api.js';
import type { Principal } from '../kernel/principal.js';
import { auditRoutes as contract, AUDIT_EXPORT_MAX } from '@gridshare/contract/audit';
import { trailCsv, trailPage } from './service.js';

export interface AuditRouteOptions {
  db: Db;
  /** Refuses anyone but a platform admin (accounts knows; audit only asks). */
  requireAdmin: (principal: Principal) => unknown;
  /** Refuses anyone but a manager of the community or an admin; 404 for a community that does not exist (the registry knows). */
  requireCommunityManager: (principal: Principal, communityId: string) => Promise<unknown>;
}

const csvReply = (name: string) => ({
  'content-type': 'text/csv; charset=utf-8',
  'content-disposition': `attachment; filename="${name}"`,
});

export async function auditRoutes(app: Api, { db, requireAdmin, requireCommunityManager }: AuditRouteOptions): Promise<void> {
  app.get(contract.communityAudit.path, { schema: contract.communityAudit.schema }, async (request) => {
    await requireCommunityManager(request.principal, request.params.id);
    const { limit, ...query } = request.query;
    return trailPage(db, { ...query, communityId: request.params.id }, limit);
  });

  app.get(contract.communityAuditCsv.path, { schema: contract.communityAuditCsv.schema }, async (request, reply) => {
    await requireCommunityManager(request.principal, request.params.id);
    const csv = await trailCsv(db, { ...request.query, communityId: request.params.id }, AUDIT_EXPORT_MAX);
    return reply.headers(csvReply(`audit-${request.params.id}.csv`)).send(csv);
  });

  app.get(contract.installationAudit.path, { schema: contract.installationAudit.schema }, async (request) => {
    requireAdmin(request.principal);
    const { limit, ...query } = request.query;
    return trailPage(db, query, limit);
  });

  app.get(contract.installationAuditCsv.path, { schema: contract.installationAuditCsv.schema }, async (request, reply) => {
    requireAdmin(request.principal);
    return reply.headers(csvReply('audit.csv')).send(await trailCsv(db, request.query, AUDIT_EXPORT_MAX));
  });
}
