import type { FastifyBaseLogger } from 'fastify';
import type { Queryable } from '../platform/store/db.js';
import { BadRequestError } from '../kernel/errors.js';
import { renderEmail, type Mailer } from '../notifications/index.js';
import { newOpaqueToken, sha256Hex } from './secrets.js';
import * as store from './store.js';
import type { LinkPurpose, UserWithHash } from './store.js';

/**
 * Links an account is sent by email (password reset, email verification): 32 random bytes,
 * base64url, in the URL's fragment so they never reach a server log. Only their SHA-256 is stored,
 * one open link per account and purpose (a newer link replaces the older one); using a link deletes
 * it, so each works once, and each expires. A link nobody was sent cannot be guessed: there is
 * nothing to forge, only 256 random bits to find.
 */
interface PurposeRules {
  /** The web app's page that opens the link. */
  readonly path: string;
  readonly ttlMs: number;
  readonly expired: string;
  readonly invalid: string;
}

export const LINK_RULES: Readonly<Record<LinkPurpose, PurposeRules>> = {
  'password-reset': {
    path: '/reset-password',
    ttlMs: 60 * 60_000,
    expired: 'this password reset link has expired; ask for a new one',
    invalid: 'this password reset link is not valid: it was used already, a newer one was sent, or it was never issued',
  },
  'email-verification': {
    path: '/verify-email',
    ttlMs: 24 * 60 * 60_000,
    expired: 'this email verification link has expired; ask for a new one from your account',
    invalid: 'this email verification link is not valid: it was used already, a newer one was sent, or it was never issued',
  },
};

/** What the page that opens a link reads: where it lives and the fragment that carries the token. */
export const emailedLink = (publicUrl: string, purpose: LinkPurpose, token: string) => `${publicUrl}${LINK_RULES[purpose].path}#token=${token}`;

export class InvalidEmailedLink extends BadRequestError {
  /** `expired`: the page offers a new link; `invalid`: used, replaced by a newer one, or never issued. */
  constructor(purpose: LinkPurpose, readonly reason: 'expired' | 'invalid') {
    super(LINK_RULES[purpose][reason], 'token');
  }
}

export interface EmailedLinkOptions {
  /** The installation's mailer; undefined: email is off, and no link can reach anyone. */
  mailer: Mailer | undefined;
  /** How browsers reach this installation (the links' origin). */
  publicUrl: () => string;
  now: () => number;
  log: FastifyBaseLogger;
}

export class EmailedLinks {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: EmailedLinkOptions) {}

  get emailOn(): boolean {
    return this.options.mailer !== undefined;
  }

  /** Runs `work` after the answer was sent; a failure is logged, never thrown at the caller. */
  inBackground(what: string, work: () => Promise<void>): void {
    const running = work().catch((error: unknown) => this.options.log.error({ err: error }, `${what}: the link was not sent`));
    this.pending.add(running);
    void running.finally(() => this.pending.delete(running));
  }

  /** Resolves once every link asked for so far has been sent (or failed): the platform waits for it when it stops. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  /**
   * Opens a new link for the account (replacing its open one of this purpose) and emails it, in
   * the person's own language if they chose one, else `browserLocale`; times in UTC (accounts keep
   * no time zone). Without a mailer nothing is stored and a warning is logged.
   */
  async send(db: Queryable, user: UserWithHash, purpose: LinkPurpose, browserLocale: string | undefined): Promise<void> {
    const { mailer, now, log } = this.options;
    if (!mailer) {
      log.warn(`${purpose} link asked for, but email is off (SMTP_URL is not set): no link was sent`);
      return;
    }
    const token = newOpaqueToken();
    const createdAtMs = now();
    const expiresAtMs = createdAtMs + LINK_RULES[purpose].ttlMs;
    await store.replaceAccountLink(db, { userId: user.id, purpose, tokenHash: sha256Hex(token), createdAt: new Date(createdAtMs), expiresAt: new Date(expiresAtMs) });
    const locale = user.locale ?? browserLocale;
    const message = renderEmail(purpose, { name: user.displayName, email: user.email, ...(locale ? { locale } : {}), timeZone: 'UTC', role: 'member' },
      { link: emailedLink(this.options.publicUrl(), purpose, token), expiresAtMs });
    const outcome = await mailer.send(message);
    if (outcome.kind !== 'sent') log.warn({ outcome: outcome.kind, response: outcome.response }, `${purpose}: the mail server did not take the link`);
  }

  /** Whose the link is, without using it up: checked before costly work, so made-up tokens cost nothing. */
  async peek(db: Queryable, purpose: LinkPurpose, token: string): Promise<string> {
    return this.check(purpose, await store.accountLinkByHash(db, purpose, sha256Hex(token))).userId;
  }

  /**
   * Uses the link up and says whose it was; run it in the transaction that acts on it: of two uses
   * at once, only one finds the link. A refusal thrown inside that transaction leaves an expired
   * link where it was, as everything else.
   */
  async take(tx: Queryable, purpose: LinkPurpose, token: string): Promise<string> {
    return this.check(purpose, await store.takeAccountLink(tx, purpose, sha256Hex(token))).userId;
  }

  private check<R extends { expiresAt: Date }>(purpose: LinkPurpose, link: R | undefined): R {
    if (!link) throw new InvalidEmailedLink(purpose, 'invalid');
    if (link.expiresAt.getTime() <= this.options.now()) throw new InvalidEmailedLink(purpose, 'expired');
    return link;
  }
}
