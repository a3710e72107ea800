import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../platform/store/db.js';
import { BadRequestError } from '../kernel/errors.js';
import { renderEmail, type Mailer } from '../notifications/index.js';
import { hashPassword, newOpaqueToken, sha256Hex } from './secrets.js';
import * as store from './store.js';
import { recordSignInReplaced } from './service.js';
import type { EventPublisher } from '../platform/events/index.js';

/** A reset link works for this long after it was asked for. */
export const PASSWORD_RESET_TTL_MS = 60 * 60_000;

/** What the page that opens the link reads: where it lives and the fragment that carries the token. */
export const resetLink = (publicUrl: string, token: string) => `${publicUrl}/reset-password#token=${token}`;

export class InvalidResetLink extends BadRequestError {
  /** `expired`: the page offers a new link; `invalid`: used, replaced by a newer one, or never issued. */
  constructor(readonly reason: 'expired' | 'invalid') {
    super(reason === 'expired'
      ? 'this password reset link has expired; ask for a new one'
      : 'this password reset link is not valid: it was used already, a newer one was sent, or it was never issued', 'token');
  }
}

export interface PasswordResetOptions {
  db: Db;
  events: EventPublisher;
  /** The installation's mailer; undefined: email is off, and no link can reach anyone. */
  mailer: Mailer | undefined;
  /** How browsers reach this installation (the link's origin). */
  publicUrl: () => string;
  now: () => number;
  log: FastifyBaseLogger;
}

/**
 * Password reset by emailed link. The request's answer never depends on whether the account
 * exists: the lookup, the token and the email happen after the answer, in the background.
 */
export class PasswordResets {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: PasswordResetOptions) {}

  /** Starts sending a link to the account with this email, if there is one; returns at once. */
  request(email: string, locale: string | undefined): void {
    const work = this.send(email, locale).catch((error: unknown) => this.options.log.error({ err: error }, 'password reset: the link was not sent'));
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  /** Resolves once every link asked for so far has been sent (or failed): the platform waits for it when it stops. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private async send(email: string, locale: string | undefined): Promise<void> {
    const { db, mailer, now, log } = this.options;
    const user = await store.userByEmail(db, email);
    if (!user) return;
    if (!mailer) {
      log.warn('password reset asked for, but email is off (SMTP_URL is not set): no link was sent');
      return;
    }
    const token = newOpaqueToken();
    const createdAtMs = now();
    const expiresAtMs = createdAtMs + PASSWORD_RESET_TTL_MS;
    await store.replacePasswordReset(db, { userId: user.id, tokenHash: sha256Hex(token), createdAt: new Date(createdAtMs), expiresAt: new Date(expiresAtMs) });
    // Accounts keep no language or time zone yet: the email is in the asking browser's language, times in UTC.
    const message = renderEmail('password-reset', { name: user.displayName, email: user.email, ...(locale ? { locale } : {}), timeZone: 'UTC', role: 'member' },
      { link: resetLink(this.options.publicUrl(), token), expiresAtMs });
    const outcome = await mailer.send(message);
    if (outcome.kind !== 'sent') log.warn({ outcome: outcome.kind, response: outcome.response }, 'password reset: the mail server did not take the link');
  }

  /**
   * Sets the new password with a link's token, once: the link is used up, every session of the
   * account ends and its API tokens are revoked. A lock stays: a locked account still cannot log in.
   * A token that is unknown, used, replaced or expired changes nothing.
   */
  async confirm(token: string, newPassword: string): Promise<void> {
    const { db } = this.options;
    const tokenHash = sha256Hex(token);
    // Checked before hashing, so a stream of made-up tokens costs no argon2 work.
    this.check(await store.passwordResetByHash(db, tokenHash));
    const passwordHash = await hashPassword(newPassword);
    await this.options.events.transaction(db, async (tx, publish) => {
      // Taken again inside the transaction: of two uses at once, only one finds the link.
      const reset = this.check(await store.takePasswordReset(tx, tokenHash));
      const ended = await store.replacePassword(tx, reset.userId, passwordHash, null);
      await recordSignInReplaced(publish, reset.userId, 'reset-password', ended);
    });
  }

  /** Thrown inside the transaction, the refusal leaves an expired link where it was, as everything else. */
  private check<R extends { expiresAt: Date }>(reset: R | undefined): R {
    if (!reset) throw new InvalidResetLink('invalid');
    if (reset.expiresAt.getTime() <= this.options.now()) throw new InvalidResetLink('expired');
    return reset;
  }
}
