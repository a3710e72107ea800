import type { Api } from '../platform/http/api.js';
import type { Db } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import type { Principal, UserPrincipal } from '../kernel/principal.js';
import { ConflictError, NotFoundError } from '../kernel/errors.js';
import { recordChange } from '../audit/index.js';
import { notificationRoutes as contract } from '@gridshare/contract/notifications';
import type { Contact, Notifications, StatementMail } from './service.js';
import type { StoredDelivery } from './store.js';
import type { StoredNotification } from './store.js';

export interface NotificationRouteOptions {
  db: Db;
  service: Notifications;
  events: EventPublisher;
  /** Who may do what is the accounts' and the registry's to say: notifications only asks. */
  requireUser: (principal: Principal) => UserPrincipal;
  requireCommunityManager: (principal: Principal, communityId: string) => Promise<unknown>;
  /**
   * A closed settlement's issued statements with their members and emails (billing and the
   * registry answer); undefined when there is no such settlement; a ConflictError while it is a draft.
   */
  closedStatements: (settlementId: string) => Promise<{ communityId: string; statements: { statementId: string; contact: Contact; mail: StatementMail }[] } | undefined>;
  /** The community a settlement belongs to (undefined: none). */
  settlementCommunity: (settlementId: string) => Promise<string | undefined>;
}

const notificationView = (n: StoredNotification) => ({
  id: n.id, communityId: n.communityId, event: n.event, params: n.params as Record<string, string | number>, link: n.link,
  createdAt: n.createdAt.toISOString(), readAt: n.readAt?.toISOString() ?? null,
});

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
const deliveryView = (d: StoredDelivery) => ({
  id: d.id, event: d.event, recipient: d.recipient, recipientName: d.recipientOf.name, subject: d.subject, state: d.state, attempts: d.attempts,
  queuedAt: new Date(d.queuedAtMs).toISOString(), nextAttemptAt: d.state === 'queued' || d.state === 'retrying' ? iso(d.nextAttemptAtMs) : null,
  sentAt: iso(d.sentAtMs), lastResponse: d.lastResponse ?? null, batch: d.batch, statementId: d.statementId,
});

export async function notificationRoutes(app: Api, options: NotificationRouteOptions): Promise<void> {
  const { db, service, events, requireUser, requireCommunityManager } = options;

  app.get(contract.listNotifications.path, { schema: contract.listNotifications.schema }, async (request) => {
    const user = requireUser(request.principal);
    const { unread, items } = await service.list(user.userId, { unreadOnly: request.query.unread ?? false, limit: request.query.limit ?? 50 });
    return { unread, items: items.map(notificationView) };
  });

  app.post(contract.markNotificationRead.path, { schema: contract.markNotificationRead.schema }, async (request, reply) => {
    const user = requireUser(request.principal);
    await service.markRead(user.userId, request.params.id);
    return reply.code(204).send(null);
  });

  app.post(contract.markAllNotificationsRead.path, { schema: contract.markAllNotificationsRead.schema }, async (request, reply) => {
    const user = requireUser(request.principal);
    await service.markAllRead(user.userId);
    return reply.code(204).send(null);
  });

  app.get(contract.notificationPreferences.path, { schema: contract.notificationPreferences.schema }, async (request) =>
    service.preferences(requireUser(request.principal).userId));

  app.put(contract.setNotificationPreferences.path, { schema: contract.setNotificationPreferences.schema }, async (request) => {
    const user = requireUser(request.principal);
    const before = await service.preferences(user.userId);
    await events.transaction(db, async (tx, publish) => {
      await service.setPreferences(tx, user.userId, request.body.preferences);
      const after = await service.preferences(user.userId, tx);
      await recordChange(publish, { kind: 'account', communityId: null, resourceId: user.userId, action: 'notification-preferences', before, after });
    });
    return service.preferences(user.userId);
  });

  app.get(contract.communityDeliveries.path, { schema: contract.communityDeliveries.schema }, async (request) => {
    await requireCommunityManager(request.principal, request.params.id);
    const { state, batch, limit } = request.query;
    const deliveries = await service.deliveries(request.params.id, { state, batch, limit: limit ?? 200 });
    return {
      counts: await service.batchCounts(request.params.id, batch),
      deliveries: deliveries.map(deliveryView),
    };
  });

  app.post(contract.resendDelivery.path, { schema: contract.resendDelivery.schema }, async (request) => {
    requireUser(request.principal);
    const delivery = await service.delivery(request.params.id);
    if (!delivery) throw new NotFoundError('delivery');
    await requireCommunityManager(request.principal, delivery.communityId);
    if (!(await service.resend(delivery.id))) throw new ConflictError(`only a failed email is sent again; this one is ${delivery.state}`);
    return deliveryView((await service.delivery(delivery.id))!);
  });

  app.post(contract.sendStatementEmails.path, { schema: contract.sendStatementEmails.schema }, async (request) => {
    requireUser(request.principal);
    const communityId = await options.settlementCommunity(request.params.id);
    if (!communityId) throw new NotFoundError('settlement');
    await requireCommunityManager(request.principal, communityId);
    if (!service.emailOn) throw new ConflictError('email is off on this installation (SMTP_URL is not set): nothing can be sent');
    const closed = await options.closedStatements(request.params.id);
    if (!closed) throw new NotFoundError('settlement');
    const resend = request.query.resend === true;
    const batch = `statements:${request.params.id}`;
    const { queued, alreadySent } = await service.queueStatements(batch, closed.statements, { resend });
    return { batch, queued, alreadySent, counts: await service.batchCounts(communityId, batch) };
  });
}
