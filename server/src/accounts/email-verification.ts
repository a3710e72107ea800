import type { Db, Queryable } from '../platform/store/db.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../kernel/errors.js';
import type { EventPublisher } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import * as store from './store.js';
import type { EmailedLinks } from './emailed-links.js';

/**
 * Email verification at sign-up (emailed-links.ts): a new account is sent a link that proves it
 * receives mail at its address. Until then it may log in and look around, but not found a
 * community, accept an invitation, be approved or be made a manager (`requireVerifiedEmail`).
 * Without a mail server nothing could reach the address, so the account is verified at once.
 */
export class EmailVerifications {
  constructor(private readonly db: Db, private readonly events: EventPublisher, private readonly links: EmailedLinks) {}

  /** Whether new accounts start unverified: only when a link can be sent. */
  get required(): boolean {
    return this.links.emailOn;
  }

  /** Sends the account a verification link after the answer; an account verified meanwhile is sent nothing. */
  send(userId: string, browserLocale: string | undefined): void {
    this.links.inBackground('email verification', async () => {
      const user = await store.userById(this.db, userId);
      if (user && user.emailVerifiedAt === null) await this.links.send(this.db, user, 'email-verification', browserLocale);
    });
  }

  /**
   * A new link for the caller, unless their address is verified already (409, before `takeLimit`:
   * a request that could send nothing counts against no limit).
   */
  async resend(userId: string, browserLocale: string | undefined, takeLimit: () => Promise<void>): Promise<void> {
    const user = await store.userById(this.db, userId);
    if (!user) throw new NotFoundError('user');
    if (user.emailVerifiedAt !== null) throw new ConflictError('this email address is verified already');
    await takeLimit();
    this.send(userId, browserLocale);
  }

  /**
   * Uses a link up and marks its account's address verified, on the trail as the account's own act
   * (the link proved it); an unknown, used, replaced or expired link changes nothing.
   */
  async confirm(token: string): Promise<void> {
    await this.events.transaction(this.db, async (tx, publish) => {
      const userId = await this.links.take(tx, 'email-verification', token);
      await store.markEmailVerified(tx, userId);
      await recordChange(publish, {
        kind: 'account', communityId: null, resourceId: userId, action: 'verify-email', actingUserId: userId, before: { emailVerified: false }, after: { emailVerified: true },
      });
    });
  }
}

export class EmailNotVerified extends ForbiddenError {
  readonly reason = 'email-unverified';
  constructor(what: string, whose: 'own' | 'theirs') {
    super(whose === 'own'
      ? `${what} needs a verified email address: open the link we emailed you, or ask for a new one on your account page`
      : `${what} needs their verified email address: they have not opened the link we emailed them yet`);
  }
}

/**
 * Refuses (403, reason `email-unverified`) unless the account's address is verified. `what` says
 * what was refused ("founding a community", "making this person a manager"); `whose`: the caller's
 * own account, or another person's (a manager approving them).
 */
export async function requireVerifiedEmail(db: Queryable, userId: string, what: string, whose: 'own' | 'theirs' = 'own'): Promise<void> {
  const user = await store.userById(db, userId);
  if (!user) throw new NotFoundError('user');
  if (user.emailVerifiedAt === null) throw new EmailNotVerified(what, whose);
}
