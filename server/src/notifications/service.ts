import type { Db, Queryable } from '../platform/store/db.js';
import type { EventSubscriber } from '../platform/events/index.js';
import type { EventPayload } from '../kernel/events.js';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { formatNano } from '../kernel/money.js';
import { emailsTo, EVENTS, NOTIFICATION_EVENTS, wants, type Channel, type EventParams, type NotificationEvent } from './domain/events.js';
import { renderEmail, type Recipient } from './domain/render.js';
import { afterAttempt, isDue } from './domain/delivery.js';
import type { Mailer } from './mailer.js';
import * as store from './store.js';

/**
 * Phase 2: events other capabilities publish become in-app notifications and queued emails. This
 * capability reads no other's tables: what it needs to know about people, communities and
 * statements it asks a directory the composition root wires to their index.ts.
 */

/** A person who may be told something, with what their email is rendered with. */
export interface Contact {
  readonly userId: string;
  readonly memberId: string;
  readonly communityId: string;
  readonly communityName: string;
  readonly recipient: Recipient;
  /** The account confirmed its address: until then only what `emailsTo` allows is emailed. */
  readonly emailConfirmed: boolean;
}

/** What a statement's email says, and its PDF when asked for. */
export interface StatementMail {
  readonly communityId: string;
  readonly memberId: string;
  readonly period: string;
  readonly invoiceNumber: string;
  readonly total: string;
  readonly currency: string;
  readonly dueDate: string;
  readonly pdf?: { readonly filename: string; readonly content: Uint8Array };
}

/** An open invitation as its email shows it: the invited address, with its account when it has one. */
export interface InvitationMail {
  readonly communityId: string;
  readonly communityName: string;
  readonly inviterName: string;
  /** The account with the invited address (it is told in the app too); undefined when the address has none yet. */
  readonly userId: string | undefined;
  readonly recipient: Recipient;
}

export interface Directory {
  /** An invitation that is still open; undefined when it was accepted, declined or revoked meanwhile. */
  invitation(q: Queryable, invitationId: string): Promise<InvitationMail | undefined>;
  /** The member's account (any state: a rejected request is told too); undefined when gone. */
  member(q: Queryable, memberId: string): Promise<Contact | undefined>;
  /** The community's active managers. */
  managers(q: Queryable, communityId: string): Promise<Contact[]>;
  /** The statement as its email shows it (with its PDF in `locale` when `pdf`); undefined when not issued. */
  statement(q: Queryable, statementId: string, options: { pdf: boolean; locale: string }): Promise<StatementMail | undefined>;
  /** An active device: its community, name and the member whose site it is bound to (undefined: a community device). */
  device(q: Queryable, deviceId: string): Promise<{ communityId: string; name: string; memberId: string | undefined } | undefined>;
  /** A metering point's name for a manager. */
  meteringPointName(q: Queryable, meteringPointId: string): Promise<string | undefined>;
  /** The community's currency (amounts in events are in it). */
  currency(q: Queryable, communityId: string): Promise<string | undefined>;
}

export interface NotificationContext {
  readonly db: Db;
  readonly directory: Directory;
  /** The installation's mailer; undefined: email is off, nothing is queued. */
  readonly mailer: Mailer | undefined;
  readonly publicUrl: () => string;
  readonly now: () => number;
  /** Wakes the sender after deliveries were queued. */
  readonly wake: () => void;
}

/**
 * Whom a notice goes to: a person with an account (told in the app too), or an address only (an
 * invitation, which has no `emailConfirmed`: it goes to the address the manager wrote, and `emailsTo` lets it through).
 */
type Addressee = Pick<Contact, 'communityId' | 'recipient'> & { readonly userId: string | undefined; readonly emailConfirmed?: boolean };

/** One thing to tell one person: the in-app notification and, if they want it, the email. */
interface Notice<E extends NotificationEvent> {
  readonly event: E;
  readonly contact: Addressee;
  /** The event's identity: the same notice twice is one notification and one email. */
  readonly key: string;
  /** The values the app shows (no links, no secrets). */
  readonly inApp: Record<string, string | number>;
  /** The web app's path it opens. */
  readonly path: string;
  readonly email: (link: string) => EventParams[E];
  readonly statementId?: string;
}

export class Notifications {
  constructor(private readonly ctx: NotificationContext) {}

  /** Writes the notice in the handler's transaction; true when an email was queued. */
  private async notify<E extends NotificationEvent>(tx: Queryable, notice: Notice<E>): Promise<boolean> {
    const { contact, event } = notice;
    if (EVENTS[event].audience === 'manager' && contact.recipient.role === 'member') return false;
    const preferences = contact.userId === undefined ? {} : await store.preferencesOf(tx, contact.userId);
    if (contact.userId !== undefined && wants(preferences, event, 'in-app')) {
      await store.insertNotification(tx, { communityId: contact.communityId, userId: contact.userId, event, params: notice.inApp, link: notice.path, dedupeKey: notice.key });
    }
    if (!this.ctx.mailer || !wants(preferences, event, 'email')) return false;
    if (!emailsTo(event, { confirmed: contact.emailConfirmed ?? false })) return false;
    const params = notice.email(`${this.ctx.publicUrl()}${notice.path}`);
    const rendered = renderEmail(event, contact.recipient, params);
    return store.insertDelivery(tx, {
      communityId: contact.communityId, userId: contact.userId ?? null, event, recipient: contact.recipient, params, statementId: notice.statementId ?? null,
      dedupeKey: `${notice.key}:${contact.userId ?? contact.recipient.email.toLowerCase()}`, batch: null, language: rendered.language, subject: rendered.subject, queuedAtMs: this.ctx.now(),
    });
  }

  /** Handlers for the durable events (each runs in the transaction that takes the event from the outbox). */
  subscribe(events: EventSubscriber): void {
    // The sender is woken once an email was queued; its delay lets the outbox's transaction commit first.
    const run = <N extends Parameters<EventSubscriber['durable']>[0]>(name: N, handle: (tx: Queryable, payload: EventPayload<N>) => Promise<boolean>) => {
      events.durable(name, 'notifications', async (tx, payload) => {
        if (await handle(tx, payload)) this.ctx.wake();
      });
    };
    run('member.decided', async (tx, e) => {
      const contact = await this.ctx.directory.member(tx, e.memberId);
      if (!contact) return false;
      const base = { contact, key: `member.decided:${e.memberId}:${e.atMs}`, inApp: { communityName: contact.communityName } };
      return e.decision === 'approved'
        ? this.notify(tx, { ...base, event: 'join-approved', path: `/members/${contact.memberId}`, email: (link) => ({ communityName: contact.communityName, link }) })
        : this.notify(tx, { ...base, event: 'join-rejected', path: '/communities', email: () => ({ communityName: contact.communityName }) });
    });
    run('invitation.sent', async (tx, e) => {
      const invitation = await this.ctx.directory.invitation(tx, e.invitationId);
      if (!invitation) return false;
      const { communityName, inviterName } = invitation;
      // An address without an account is sent to sign up; the token in the fragment (never in a server
      // log) proves the address received this email, so the new account needs no second proof.
      return this.notify(tx, {
        event: 'invitation', contact: invitation, key: `invitation.sent:${e.invitationId}:${e.atMs}`, inApp: { communityName, inviterName },
        path: invitation.userId === undefined ? `/signup#invitation=${e.signupToken}` : '/communities', email: (link) => ({ communityName, inviterName, link }),
      });
    });
    run('statement.issued', async (tx, e) => {
      const contact = await this.ctx.directory.member(tx, e.memberId);
      const statement = contact && await this.ctx.directory.statement(tx, e.statementId, { pdf: false, locale: contact.recipient.locale ?? contact.recipient.communityLocale ?? 'en' });
      if (!contact || !statement) return false;
      const values = { period: statement.period, invoiceNumber: statement.invoiceNumber, total: statement.total, currency: statement.currency, dueDate: statement.dueDate };
      return this.notify(tx, {
        event: 'statement-ready', contact, key: `statement.issued:${e.statementId}`, statementId: e.statementId,
        inApp: { ...values, communityName: contact.communityName, statementId: e.statementId }, path: `/members/${contact.memberId}/statements`,
        email: (link) => ({ ...values, communityName: contact.communityName, link }),
      });
    });
    run('payment.status.changed', async (tx, e) => {
      if (e.status !== 'failed') return false;
      const contact = await this.ctx.directory.member(tx, e.memberId);
      const invoice = contact && await this.ctx.directory.statement(tx, e.statementId, { pdf: false, locale: 'en' });
      if (!contact || !invoice) return false;
      const values = { invoiceNumber: invoice.invoiceNumber, total: invoice.total, currency: invoice.currency, reasonCode: e.reason ?? '' };
      return this.notify(tx, {
        event: 'payment-failed', contact, key: `payment.failed:${e.invoiceId}:${e.atMs}`, inApp: { ...values, communityName: contact.communityName },
        path: `/members/${contact.memberId}/statements`, email: (link) => ({ ...values, communityName: contact.communityName, link }),
      });
    });
    run('payment.overdue', async (tx, e) => {
      const contact = await this.ctx.directory.member(tx, e.memberId);
      const invoice = contact && await this.ctx.directory.statement(tx, e.statementId, { pdf: false, locale: 'en' });
      if (!contact || !invoice) return false;
      const values = { invoiceNumber: invoice.invoiceNumber, total: invoice.total, currency: invoice.currency, dueDate: invoice.dueDate };
      return this.notify(tx, {
        event: 'payment-due', contact, key: `payment.overdue:${e.invoiceId}`, inApp: { ...values, communityName: contact.communityName },
        path: `/members/${contact.memberId}/statements`, email: (link) => ({ ...values, communityName: contact.communityName, link }),
      });
    });
    run('device.offline', async (tx, e) => {
      const device = await this.ctx.directory.device(tx, e.deviceId);
      if (!device || device.communityId !== e.communityId) return false;
      // The member whose site it is; a device of no one's site (the community's own) concerns its managers.
      const member = device.memberId === undefined ? undefined : await this.ctx.directory.member(tx, device.memberId);
      const contacts = member ? [member] : await this.ctx.directory.managers(tx, e.communityId);
      const path = member ? `/members/${member.memberId}/devices` : `/manage/${e.communityId}/devices`;
      const values = { deviceName: device.name, sinceMs: e.lastSeenMs };
      let queued = false;
      for (const contact of contacts) {
        queued = await this.notify(tx, {
          event: 'device-offline', contact, key: `device.offline:${e.deviceId}:${e.lastSeenMs}`, inApp: { ...values, communityName: contact.communityName }, path,
          email: (link) => ({ ...values, communityName: contact.communityName, thresholdMinutes: e.thresholdMinutes, link }),
        }) || queued;
      }
      return queued;
    });
    run('intervals.quarantined', async (tx, e) => {
      const first = e.startsMs[0];
      if (first === undefined) return false;
      const meteringPoint = (await this.ctx.directory.meteringPointName(tx, e.meteringPointId)) ?? e.meteringPointId;
      const reason = 'beyond the connection capacity';
      let queued = false;
      for (const contact of await this.ctx.directory.managers(tx, e.communityId)) {
        queued = await this.notify(tx, {
          event: 'quarantined-quarter-hour', contact, key: `intervals.quarantined:${e.meteringPointId}:${first}`,
          inApp: { communityName: contact.communityName, meteringPoint, quarterHourStartMs: first, count: e.startsMs.length },
          path: `/manage/${e.communityId}`,
          email: (link) => ({ communityName: contact.communityName, meteringPoint, quarterHourStartMs: first, reason, link }),
        }) || queued;
      }
      return queued;
    });
    run('market.wallet.low-balance', async (tx, e) => {
      const contact = await this.ctx.directory.member(tx, e.memberId);
      const currency = await this.ctx.directory.currency(tx, e.communityId);
      if (!contact || !currency) return false;
      const values = { balance: formatNano(BigInt(e.balanceNano)), threshold: formatNano(BigInt(e.thresholdNano)), currency };
      return this.notify(tx, {
        event: 'wallet-low-balance', contact, key: `market.wallet.low-balance:${e.memberId}:${e.atMs}`, inApp: { ...values, communityName: contact.communityName },
        path: `/members/${contact.memberId}/market`, email: (link) => ({ ...values, communityName: contact.communityName, link }),
      });
    });
  }

  // ---- the person's own notifications and preferences ----

  async list(userId: string, options: { unreadOnly: boolean; limit: number }) {
    const [items, unread] = await Promise.all([store.notificationsOfUser(this.ctx.db, userId, options), store.unreadCount(this.ctx.db, userId)]);
    return { unread, items };
  }

  async markRead(userId: string, id: string): Promise<void> {
    if (!(await store.markRead(this.ctx.db, userId, id))) throw new NotFoundError('notification');
  }

  markAllRead(userId: string): Promise<number> {
    return store.markAllRead(this.ctx.db, userId);
  }

  async preferences(userId: string, q: Queryable = this.ctx.db) {
    const chosen = await store.preferencesOf(q, userId);
    return NOTIFICATION_EVENTS.filter((event) => event !== 'password-reset' && event !== 'email-verification').map((event) => ({
      event, audience: EVENTS[event].audience, switchable: EVENTS[event].optional,
      email: wants(chosen, event, 'email'), inApp: wants(chosen, event, 'in-app'),
    }));
  }

  /** Saves choices; a security message cannot be switched off (400, nothing saved). */
  async setPreferences(tx: Queryable, userId: string, choices: readonly { event: NotificationEvent; channel: Channel; enabled: boolean }[]): Promise<void> {
    for (const [index, choice] of choices.entries()) {
      if (!Object.hasOwn(EVENTS, choice.event)) throw new BadRequestError(`unknown event "${choice.event}"`, `body/preferences/${index}/event`);
      if (!EVENTS[choice.event].optional && !choice.enabled) throw new BadRequestError(`${choice.event} cannot be switched off`, `body/preferences/${index}/enabled`);
    }
    await store.savePreferences(tx, userId, choices);
  }

  // ---- the sender ----

  /** Sends one delivery if it is still due (read again after its lease: a delivery is never sent twice). */
  async send(id: string): Promise<void> {
    const { db, mailer, directory, now } = this.ctx;
    if (!mailer) return;
    const delivery = await store.deliveryById(db, id);
    const nowMs = now();
    if (!delivery || !isDue(delivery, nowMs)) return;
    let outcome;
    try {
      const params = { ...delivery.params } as EventParams[typeof delivery.event];
      if (delivery.statementId) {
        const statement = await directory.statement(db, delivery.statementId, { pdf: true, locale: delivery.recipientOf.locale ?? delivery.recipientOf.communityLocale ?? 'en' });
        if (statement?.pdf) Object.assign(params, { pdf: statement.pdf });
      }
      const email = renderEmail(delivery.event, delivery.recipientOf, params);
      outcome = await mailer.send(email);
    } catch (error) {
      outcome = { kind: 'permanent' as const, response: `not rendered: ${(error as Error).message}` };
    }
    await store.saveAttempt(db, delivery, afterAttempt(delivery, outcome, now()));
  }

  dueDeliveries(limit: number): Promise<string[]> {
    return store.dueDeliveryIds(this.ctx.db, this.ctx.now(), limit);
  }

  waitingSince(): Promise<Date | null> {
    return store.oldestWaiting(this.ctx.db);
  }

  // ---- the manager's delivery log ----

  deliveries(communityId: string, filter: { batch?: string | undefined; state?: store.StoredDelivery['state'] | undefined; limit: number }) {
    return store.deliveriesOfCommunity(this.ctx.db, communityId, filter);
  }

  delivery(id: string) {
    return store.deliveryById(this.ctx.db, id);
  }

  async resend(id: string): Promise<boolean> {
    const requeued = await store.requeueFailed(this.ctx.db, id, this.ctx.now());
    if (requeued) this.ctx.wake();
    return requeued;
  }

  /**
   * Queues one statement email per statement (PDF attached when sent) as the batch `batch`. Unless
   * `resend`, a statement an earlier email (the one at closing, an earlier bulk send) delivered or
   * is delivering is left out: only one whose email failed or was never queued goes. Returns how
   * many were queued now and how many were left out as sent.
   */
  async queueStatements(batch: string, statements: readonly { statementId: string; contact: Contact; mail: StatementMail }[], options: { resend: boolean }): Promise<{ queued: number; alreadySent: number }> {
    let queued = 0;
    let alreadySent = 0;
    await this.ctx.db.transaction(async (tx) => {
      const emailed = options.resend ? new Set<string>() : await store.statementsEmailed(tx, statements.map((s) => s.statementId));
      const nowMs = this.ctx.now();
      for (const { statementId, contact, mail } of statements) {
        // Held back until the member confirms their address: the statement is in the app.
        if (!emailsTo('statement-ready', { confirmed: contact.emailConfirmed })) continue;
        if (emailed.has(statementId)) {
          alreadySent += 1;
          continue;
        }
        const params = {
          communityName: contact.communityName, period: mail.period, invoiceNumber: mail.invoiceNumber, total: mail.total, currency: mail.currency,
          dueDate: mail.dueDate, link: `${this.ctx.publicUrl()}/members/${contact.memberId}/statements`,
        };
        const rendered = renderEmail('statement-ready', contact.recipient, params);
        if (await store.insertDelivery(tx, {
          communityId: contact.communityId, userId: contact.userId, event: 'statement-ready', recipient: contact.recipient, params, statementId,
          dedupeKey: options.resend ? `${batch}:${statementId}:resend:${nowMs}` : `${batch}:${statementId}`, batch, language: rendered.language, subject: rendered.subject, queuedAtMs: nowMs,
        })) queued += 1;
      }
    });
    if (queued > 0) this.ctx.wake();
    return { queued, alreadySent };
  }

  /** Whether this installation sends email at all (SMTP_URL). */
  get emailOn(): boolean {
    return this.ctx.mailer !== undefined;
  }

  batchCounts(communityId: string, batch: string | undefined) {
    return store.batchCounts(this.ctx.db, communityId, batch);
  }
}
