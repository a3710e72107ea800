/**
 * Notifications (server/src/notifications): a person's in-app notifications (the bell) and their
 * choices per event and channel; a community manager's delivery log (every email, its attempts),
 * resending a failed email, and sending a closed month's statements by email (PDF attached).
 */
import { Type, type Static } from 'typebox';
import { errors, IdParams, IsoDateTime, literals, NoContent, nullable, Uuid } from './common.js';
import { route } from './route.js';

/** Every event a person can be told about (security messages cannot be switched off). */
export const NOTIFICATION_EVENTS = [
  'invitation', 'join-approved', 'join-rejected', 'statement-ready', 'payment-due', 'payment-failed', 'device-offline',
  'quarantined-quarter-hour', 'wallet-low-balance',
] as const;
export type NotificationEventName = (typeof NOTIFICATION_EVENTS)[number];
export const NotificationEventName = literals(NOTIFICATION_EVENTS);
export const NOTIFICATION_CHANNELS = ['email', 'in-app'] as const;
export const Channel = literals(NOTIFICATION_CHANNELS);
export const DELIVERY_STATES = ['queued', 'sent', 'retrying', 'failed'] as const;
export const DeliveryState = literals(DELIVERY_STATES);

export const Notification = Type.Object({
  id: Uuid,
  communityId: Uuid,
  event: Type.String({ description: 'one of the notification events' }),
  params: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]), {
    description: 'the message\'s values: names, a period (YYYY-MM), amounts as exact decimals with their currency, instants in epoch ms (…Ms)',
  }),
  link: nullable(Type.String({ description: 'the web app\'s path it opens' })),
  createdAt: IsoDateTime,
  readAt: nullable(IsoDateTime),
});
export type Notification = Static<typeof Notification>;

export const NotificationList = Type.Object({
  unread: Type.Integer({ minimum: 0, description: 'unread notifications in all' }),
  items: Type.Array(Notification),
});

export const NotificationPreference = Type.Object({
  event: NotificationEventName,
  audience: literals(['member', 'manager', 'anyone']),
  switchable: Type.Boolean({ description: 'false: a message about the account or its membership, always sent' }),
  email: Type.Boolean(),
  inApp: Type.Boolean(),
});
export type NotificationPreference = Static<typeof NotificationPreference>;

export const Delivery = Type.Object({
  id: Uuid,
  event: Type.String(),
  recipient: Type.String({ description: 'the email address' }),
  recipientName: Type.String(),
  subject: Type.String(),
  state: DeliveryState,
  attempts: Type.Integer({ minimum: 0 }),
  queuedAt: IsoDateTime,
  nextAttemptAt: nullable(IsoDateTime),
  sentAt: nullable(IsoDateTime),
  lastResponse: nullable(Type.String({ description: 'the mail server\'s answer to the last attempt' })),
  batch: nullable(Type.String()),
  statementId: nullable(Uuid),
});
export type Delivery = Static<typeof Delivery>;

export const DeliveryLog = Type.Object({
  counts: Type.Object({ queued: Type.Integer(), sent: Type.Integer(), retrying: Type.Integer(), failed: Type.Integer() }),
  deliveries: Type.Array(Delivery),
});

export const notificationRoutes = {
  listNotifications: route('GET', '/api/v1/me/notifications', {
    tags: ['notifications'], summary: 'The logged-in user\'s notifications, newest first, and how many are unread',
    querystring: Type.Object({
      unread: Type.Optional(Type.Boolean({ description: 'only unread ones' })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    }, { additionalProperties: false }),
    response: { 200: NotificationList, ...errors(400, 401) },
  }),
  markNotificationRead: route('POST', '/api/v1/me/notifications/:id/read', {
    tags: ['notifications'], summary: 'Mark one of one\'s notifications read', params: IdParams, response: { ...NoContent, ...errors(401, 404) },
  }),
  markAllNotificationsRead: route('POST', '/api/v1/me/notifications/read-all', {
    tags: ['notifications'], summary: 'Mark all of one\'s notifications read', response: { ...NoContent, ...errors(401) },
  }),
  notificationPreferences: route('GET', '/api/v1/me/notification-preferences', {
    tags: ['notifications'], summary: 'What the logged-in user is told, per event, by email and in the app', response: { 200: Type.Array(NotificationPreference), ...errors(401) },
  }),
  setNotificationPreferences: route('PUT', '/api/v1/me/notification-preferences', {
    tags: ['notifications'], summary: 'Choose per event and channel (messages about the account and membership cannot be switched off)',
    body: Type.Object({
      preferences: Type.Array(Type.Object({ event: NotificationEventName, channel: Channel, enabled: Type.Boolean() }, { additionalProperties: false }), { maxItems: 100 }),
    }, { additionalProperties: false }),
    response: { 200: Type.Array(NotificationPreference), ...errors(400, 401) },
  }),
  communityDeliveries: route('GET', '/api/v1/communities/:id/deliveries', {
    tags: ['notifications'], summary: 'The community\'s delivery log (emails and their attempts), newest first; managers',
    params: IdParams,
    querystring: Type.Object({
      state: Type.Optional(DeliveryState),
      batch: Type.Optional(Type.String({ maxLength: 100, description: 'one bulk send, e.g. statements:<settlement id>' })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
    }, { additionalProperties: false }),
    response: { 200: DeliveryLog, ...errors(400, 401, 403, 404) },
  }),
  resendDelivery: route('POST', '/api/v1/deliveries/:id/resend', {
    tags: ['notifications'], summary: 'Queue a failed email again (its attempts start over); managers', params: IdParams,
    response: { 200: Delivery, ...errors(401, 403, 404, 409) },
  }),
  sendStatementEmails: route('POST', '/api/v1/settlements/:id/statement-emails', {
    tags: ['notifications'], summary: 'Email every statement of a closed month to its member (PDF attached); statements queued or emailed before (the email at closing too) are not sent again unless resend; managers',
    params: IdParams,
    querystring: Type.Object({
      resend: Type.Optional(Type.Boolean({ description: 'send every statement again, also those already emailed (a new batch of its own)' })),
    }, { additionalProperties: false }),
    response: {
      200: Type.Object({
        batch: Type.String(), queued: Type.Integer({ minimum: 0 }),
        alreadySent: Type.Integer({ minimum: 0, description: 'statements left out: emailed (or on their way) before, by the email at closing or an earlier bulk send' }),
        counts: DeliveryLog.properties.counts,
      }),
      ...errors(400, 401, 403, 404, 409),
    },
  }),
};
