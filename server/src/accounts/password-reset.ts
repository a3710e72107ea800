import type { Db } from '../platform/store/db.js';
import { hashPassword } from './secrets.js';
import * as store from './store.js';
import { recordSignInReplaced } from './service.js';
import type { EventPublisher } from '../platform/events/index.js';
import { LINK_RULES, type EmailedLinks } from './emailed-links.js';

/** A reset link works for this long after it was asked for. */
export const PASSWORD_RESET_TTL_MS = LINK_RULES['password-reset'].ttlMs;

/**
 * Password reset by emailed link (emailed-links.ts). The request's answer never depends on whether
 * the account exists: the lookup, the token and the email happen after the answer, in the background.
 */
export class PasswordResets {
  constructor(private readonly db: Db, private readonly events: EventPublisher, private readonly links: EmailedLinks) {}

  /** Starts sending a link to the account with this email, if there is one; returns at once. */
  request(email: string, browserLocale: string | undefined): void {
    this.links.inBackground('password reset', async () => {
      const user = await store.userByEmail(this.db, email);
      if (user) await this.links.send(this.db, user, 'password-reset', browserLocale);
    });
  }

  /**
   * Sets the new password with a link's token, once: the link is used up, every session of the
   * account ends and its API tokens are revoked. A lock stays: a locked account still cannot log in.
   * A token that is unknown, used, replaced or expired changes nothing.
   */
  async confirm(token: string, newPassword: string): Promise<void> {
    // Checked before hashing, so a stream of made-up tokens costs no password hashing.
    await this.links.peek(this.db, 'password-reset', token);
    const passwordHash = await hashPassword(newPassword);
    await this.events.transaction(this.db, async (tx, publish) => {
      const userId = await this.links.take(tx, 'password-reset', token);
      const ended = await store.replacePassword(tx, userId, passwordHash, null);
      // The link reached the account's mailbox: the address is proven too.
      await store.markEmailVerified(tx, userId);
      await recordSignInReplaced(publish, userId, 'reset-password', ended);
    });
  }
}
