import type { Db } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import type { Api } from '../platform/http/api.js';
import { requestCredentials, SESSION_COOKIE } from '../platform/http/app.js';
import { accountRoutes as contract } from '@gridshare/contract/accounts';
import type { Mailer } from '../notifications/index.js';
import { FailedAttemptGuard, RequestLimit, type RateLimit } from './attempt-guard.js';
import { PasswordResets } from './password-reset.js';
import { EmailedLinks } from './emailed-links.js';
import { EmailVerifications } from './email-verification.js';
import { requireAdmin, requireUser } from './policy.js';
import * as accounts from './service.js';

export type { RateLimit } from './attempt-guard.js';

export interface AccountRoutesOptions {
  db: Db;
  events: EventPublisher;
  secureCookies: boolean;
  /** Failed log-ins (and password changes) per account and address, and per address across accounts. */
  loginRateLimit: RateLimit;
  loginAddressRateLimit: RateLimit;
  signupRateLimit: RateLimit;
  /** A session unused this long ends. */
  sessionIdleMs: number;
  passwordReset: {
    /** Where reset links are sent from; undefined: email is off. */
    mailer: Mailer | undefined;
    /** How browsers reach this installation: the links point there. */
    publicUrl: () => string;
    /** Reset requests per email address, and per client address across emails. */
    perEmail: RateLimit;
    perAddress: RateLimit;
    now: () => number;
  };
  /** Requests for a new verification link per account, and per client address across accounts. */
  verificationEmail: { perAccount: RateLimit; perAddress: RateLimit };
  /**
   * The invited address of an emailed invitation's sign-up token (registry, wired by the composition
   * root: registry depends on accounts); undefined when the token is unknown or no longer open.
   */
  invitedAddress: (db: Db, token: string) => Promise<string | undefined>;
}

/** The one answer to every reset request the limits let through, as the contract words it. */
const RESET_ACCEPTED = { message: contract.requestPasswordReset.schema.response[202].properties.message.const };

/** The language of the asking browser (the first of its Accept-Language), for the email. */
function browserLocale(header: string | undefined): string | undefined {
  const first = header?.split(',')[0]?.split(';')[0]?.trim();
  return first && first !== '*' ? first : undefined;
}

export async function accountRoutes(app: Api, options: AccountRoutesOptions): Promise<void> {
  const { db, events } = options;
  const cookieOptions = {
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: options.secureCookies,
  };

  const guard = new FailedAttemptGuard({ perAccountAndAddress: options.loginRateLimit, perAddress: options.loginAddressRateLimit });
  const { passwordReset } = options;
  const resetLimit = new RequestLimit({ perKey: passwordReset.perEmail, perAddress: passwordReset.perAddress });
  const links = new EmailedLinks({ mailer: passwordReset.mailer, publicUrl: passwordReset.publicUrl, now: passwordReset.now, log: app.log });
  const resets = new PasswordResets(db, events, links);
  const verifications = new EmailVerifications(db, events, links);
  const verificationLimit = new RequestLimit({ perKey: options.verificationEmail.perAccount, perAddress: options.verificationEmail.perAddress });
  app.addHook('onClose', () => links.settled());

  async function startSession(userId: string, reply: { setCookie: (name: string, value: string, opts: object) => unknown }) {
    const session = await accounts.createSession(db, userId, options.sessionIdleMs);
    reply.setCookie(SESSION_COOKIE, session.token, { ...cookieOptions, expires: session.expiresAt });
  }

  app.post(contract.signup.path, {
    schema: contract.signup.schema,
    config: { rateLimit: { max: options.signupRateLimit.max, timeWindow: options.signupRateLimit.windowMs } },
  }, async (request, reply) => {
    const { invitationToken, ...input } = request.body;
    // An invitation's link reached this address already: it needs no second proof.
    const invited = invitationToken === undefined ? undefined : await options.invitedAddress(db, invitationToken);
    const provenByInvitation = invited !== undefined && invited.trim().toLowerCase() === input.email.trim().toLowerCase();
    const user = await accounts.createUser(db, { ...input, emailVerified: provenByInvitation || !verifications.required });
    if (user.emailVerifiedAt === null) verifications.send(user.id, browserLocale(request.headers['accept-language']));
    await startSession(user.id, reply);
    return reply.status(201).send(user);
  });

  app.post(contract.confirmEmail.path, { schema: contract.confirmEmail.schema }, async (request, reply) => {
    await verifications.confirm(request.body.token);
    return reply.status(204).send(null);
  });

  app.post(contract.resendVerificationEmail.path, { schema: contract.resendVerificationEmail.schema }, async (request, reply) => {
    const { userId } = requireUser(request.principal);
    await verifications.resend(userId, browserLocale(request.headers['accept-language']), () => verificationLimit.take(userId, request.ip));
    return reply.status(202).send(null);
  });

  app.patch(contract.updateMe.path, { schema: contract.updateMe.schema }, async (request) =>
    accounts.setUserLocale(db, events, requireUser(request.principal).userId, request.body.locale));

  app.post(contract.login.path, { schema: contract.login.schema }, async (request, reply) => {
    const { email, password } = request.body;
    const user = await guard.attempt(`email:${email.trim().toLowerCase()}`, request.ip, () => accounts.checkCredentials(db, email, password));
    await startSession(user.id, reply);
    return user;
  });

  app.post(contract.requestPasswordReset.path, { schema: contract.requestPasswordReset.schema }, async (request, reply) => {
    const email = request.body.email.trim().toLowerCase();
    await resetLimit.take(email, request.ip);
    resets.request(email, browserLocale(request.headers['accept-language']));
    return reply.status(202).send(RESET_ACCEPTED);
  });

  app.post(contract.confirmPasswordReset.path, { schema: contract.confirmPasswordReset.schema }, async (request, reply) => {
    await resets.confirm(request.body.token, request.body.newPassword);
    return reply.status(204).send(null);
  });

  app.post(contract.logout.path, { schema: contract.logout.schema }, async (request, reply) => {
    const token = request.cookies[SESSION_COOKIE];
    if (token) await accounts.deleteSession(db, token);
    reply.clearCookie(SESSION_COOKIE, cookieOptions);
    return reply.status(204).send(null);
  });

  app.get(contract.me.path, { schema: contract.me.schema }, async (request) => {
    const principal = requireUser(request.principal);
    return { user: await accounts.getUser(db, principal.userId), memberships: [...principal.memberships] };
  });

  app.post(contract.changePassword.path, { schema: contract.changePassword.schema }, async (request, reply) => {
    const principal = requireUser(request.principal);
    const { currentPassword, newPassword } = request.body;
    // Only the session making the change lives on; a change made with an API token keeps none.
    const keep = requestCredentials(request).bearerToken === undefined ? request.cookies[SESSION_COOKIE] : undefined;
    await guard.attempt(`user:${principal.userId}`, request.ip, () => accounts.changePassword(db, events, principal.userId, currentPassword, newPassword, keep));
    return reply.status(204).send(null);
  });

  app.get(contract.listApiTokens.path, { schema: contract.listApiTokens.schema }, async (request) => accounts.listApiTokens(db, requireUser(request.principal).userId));

  app.post(contract.createApiToken.path, { schema: contract.createApiToken.schema }, async (request, reply) => {
    const token = await accounts.createApiToken(db, events, requireUser(request.principal).userId, request.body.name, request.body.expiresAt);
    return reply.status(201).send(token);
  });

  app.delete(contract.revokeApiToken.path, { schema: contract.revokeApiToken.schema }, async (request, reply) => {
    await accounts.revokeApiToken(db, events, requireUser(request.principal).userId, request.params.id);
    return reply.status(204).send(null);
  });

  app.get(contract.listUsers.path, { schema: contract.listUsers.schema }, async (request) => {
    requireAdmin(request.principal);
    return accounts.listUsers(db);
  });
}
