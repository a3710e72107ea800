/** The audit trail: who changed what, when, from where (server/src/audit). */
import { Type } from 'typebox';
import { defaulted, errors, IdParams, IsoDateTime, literals, nullable, Uuid } from './common.js';
import { route } from './route.js';

/** What the trail records changes of. */
export const AUDIT_KINDS = ['community', 'tariff', 'sharing-rule', 'share', 'member', 'device', 'settlement', 'quota', 'consent', 'role',
  'metering-point', 'invitation', 'device-batch', 'connector', 'market', 'wallet', 'retention', 'erasure',
  'account', 'job', 'key', 'coefficients', 'co2-intensity', 'weather-source', 'plan-objective', 'device-control', 'appliance-request', 'agent-limits', 'flex', 'command', 'operator-import', 'masking',
  'billing-profile', 'billing-details', 'sepa-mandate', 'payment'] as const;
export const AuditKind = literals([...AUDIT_KINDS]);
/** The role the person acted in: `user` is an account acting on its own things outside a community. */
export const AuditActorRole = literals(['admin', 'manager', 'member', 'user', 'system']);

/** The most entries one page answers, and one CSV export holds. */
export const AUDIT_PAGE_MAX = 500;
export const AUDIT_EXPORT_MAX = 100_000;

const DiffLine = Type.Object({
  path: Type.String({ description: 'the changed field, dotted for nested ones' }),
  before: nullable(Type.String({ description: 'JSON text of the old value; "[secret]" or "[personal]" where masked' })),
  after: nullable(Type.String({ description: 'JSON text of the new value; null where the field (or the resource) is gone' })),
});

export const AuditEntry = Type.Object({
  id: Type.String({ description: 'increasing; also the cursor for the next page' }),
  at: IsoDateTime,
  communityId: nullable(Uuid),
  kind: AuditKind,
  resourceId: Type.String(),
  action: Type.String(),
  actor: Type.Object({ userId: nullable(Uuid), role: AuditActorRole }),
  subjectMemberId: nullable(Type.String({ description: 'the member whose thing was changed, when someone else changed it' })),
  diff: Type.Array(DiffLine),
  origin: Type.Object({ clientAddress: nullable(Type.String()), userAgent: nullable(Type.String()), requestId: nullable(Type.String()) }),
});

const filters = {
  kind: Type.Optional(AuditKind),
  userId: Type.Optional(Uuid),
  from: Type.Optional(IsoDateTime),
  to: Type.Optional(IsoDateTime),
};
const page = {
  before: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,17}$', description: 'the `next` of the page before' })),
  limit: defaulted(Type.Integer({ minimum: 1, maximum: AUDIT_PAGE_MAX, default: 100 })),
};
const strict = { additionalProperties: false };
const CommunityQuery = Type.Object({ ...filters, ...page }, strict);
const InstallationQuery = Type.Object({ communityId: Type.Optional(Uuid), ...filters, ...page }, strict);
const CommunityExportQuery = Type.Object(filters, strict);
const InstallationExportQuery = Type.Object({ communityId: Type.Optional(Uuid), ...filters }, strict);

const AuditPage = Type.Object({ entries: Type.Array(AuditEntry), next: nullable(Type.String({ description: 'pass as `before` for older entries' })) });

export const auditRoutes = {
  communityAudit: route('GET', '/api/v1/communities/:id/audit', {
    tags: ['audit'], summary: 'The community\'s audit trail, newest first (its managers, platform admins)',
    params: IdParams, querystring: CommunityQuery, response: { 200: AuditPage, ...errors(400, 401, 403, 404) },
  }),
  communityAuditCsv: route('GET', '/api/v1/communities/:id/audit.csv', {
    tags: ['audit'], summary: `The community's audit trail as CSV, newest first, at most ${AUDIT_EXPORT_MAX} entries (its managers, platform admins)`,
    params: IdParams, querystring: CommunityExportQuery, produces: ['text/csv'], response: errors(400, 401, 403, 404),
  }),
  installationAudit: route('GET', '/api/v1/audit', {
    tags: ['audit'], summary: 'The whole installation\'s audit trail, newest first (platform admins)',
    querystring: InstallationQuery, response: { 200: AuditPage, ...errors(400, 401, 403) },
  }),
  installationAuditCsv: route('GET', '/api/v1/audit.csv', {
    tags: ['audit'], summary: `The installation's audit trail as CSV, newest first, at most ${AUDIT_EXPORT_MAX} entries (platform admins)`,
    querystring: InstallationExportQuery, produces: ['text/csv'], response: errors(400, 401, 403),
  }),
};
