import { Type } from 'typebox';
import type { Db } from '../platform/store/db.js';
import { errors, IdParams, IsoDateTime, Uuid, type Api } from '../platform/http/api.js';
import { requestCredentials, SESSION_COOKIE } from '../platform/http/app.js';
import { FailedAttemptGuard, type RateLimit } from './attempt-guard.js';
import { requireAdmin, requireUser } from './policy.js';
import * as accounts from './service.js';

const Email = Type.String({ format: 'email', maxLength: 254 });
// Long passphrases are welcome; the upper bound only protects the hasher.
const Password = Type.String({ minLength: 10, maxLength: 256 });

const UserSchema = Type.Object({
  id: Uuid,
  email: Type.String(),
  displayName: Type.String(),
  isAdmin: Type.Boolean(),
  mustChangePassword: Type.Boolean(),
  createdAt: IsoDateTime,
});

const MembershipSchema = Type.Object({
  memberId: Uuid,
  communityId: Uuid,
  role: Type.Union([Type.Literal('member'), Type.Literal('manager')]),
  state: Type.Union([Type.Literal('requested'), Type.Literal('active'), Type.Literal('rejected'), Type.Literal('left')]),
});

const MeSchema = Type.Object({ user: UserSchema, memberships: Type.Array(MembershipSchema) });

const ApiTokenSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  createdAt: IsoDateTime,
  lastUsedAt: Type.Union([IsoDateTime, Type.Null()]),
  expiresAt: Type.Union([IsoDateTime, Type.Null()], { description: 'null: valid until revoked' }),
});

export type { RateLimit } from './attempt-guard.js';

export interface AccountRoutesOptions {
  db: Db;
  secureCookies: boolean;
  /** Failed log-ins (and password changes) per account and address, and per address across accounts. */
  loginRateLimit: RateLimit;
  loginAddressRateLimit: RateLimit;
  signupRateLimit: RateLimit;
  /** A session unused this long ends. */
  sessionIdleMs: number;
}

export async function accountRoutes(app: Api, options: AccountRoutesOptions): Promise<void> {
  const { db } = options;
  const cookieOptions = {
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: options.secureCookies,
  };

  const guard = new FailedAttemptGuard({ perAccountAndAddress: options.loginRateLimit, perAddress: options.loginAddressRateLimit });

  async function startSession(userId: string, reply: { setCookie: (name: string, value: string, opts: object) => unknown }) {
    const session = await accounts.createSession(db, userId, options.sessionIdleMs);
    reply.setCookie(SESSION_COOKIE, session.token, { ...cookieOptions, expires: session.expiresAt });
  }

  app.post('/api/v1/auth/signup', {
    schema: {
      tags: ['accounts'],
      summary: 'Create an account and log in',
      security: [],
      body: Type.Object(
        { email: Email, password: Password, displayName: Type.String({ minLength: 1, maxLength: 100 }) },
        { additionalProperties: false },
      ),
      response: { 201: UserSchema, ...errors(400, 409, 429) },
    },
    config: { rateLimit: { max: options.signupRateLimit.max, timeWindow: options.signupRateLimit.windowMs } },
  }, async (request, reply) => {
    const user = await accounts.createUser(db, request.body);
    await startSession(user.id, reply);
    return reply.status(201).send(user);
  });

  app.post('/api/v1/auth/login', {
    schema: {
      tags: ['accounts'],
      summary: 'Log in with email and password; sets the session cookie',
      security: [],
      body: Type.Object({ email: Email, password: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false }),
      response: { 200: UserSchema, ...errors(400, 401, 403, 429) },
    },
  }, async (request, reply) => {
    const { email, password } = request.body;
    const user = await guard.attempt(`email:${email.trim().toLowerCase()}`, request.ip, () => accounts.checkCredentials(db, email, password));
    await startSession(user.id, reply);
    return user;
  });

  app.post('/api/v1/auth/logout', {
    schema: { tags: ['accounts'], summary: 'End the browser session', response: { 204: Type.Null() } },
  }, async (request, reply) => {
    const token = request.cookies[SESSION_COOKIE];
    if (token) await accounts.deleteSession(db, token);
    reply.clearCookie(SESSION_COOKIE, cookieOptions);
    return reply.status(204).send(null);
  });

  app.get('/api/v1/me', {
    schema: { tags: ['accounts'], summary: 'The logged-in user and their memberships', response: { 200: MeSchema, ...errors(401) } },
  }, async (request) => {
    const principal = requireUser(request.principal);
    return { user: await accounts.getUser(db, principal.userId), memberships: [...principal.memberships] };
  });

  app.post('/api/v1/me/password', {
    schema: {
      tags: ['accounts'],
      summary: 'Change the password (required first for one-time passwords). Ends every other session and revokes every API token, '
        + 'including the one making this request; failed attempts are limited like log-ins',
      body: Type.Object({ currentPassword: Type.String({ maxLength: 256 }), newPassword: Password }, { additionalProperties: false }),
      response: { 204: Type.Null(), ...errors(400, 401, 403, 429) },
    },
  }, async (request, reply) => {
    const principal = requireUser(request.principal);
    const { currentPassword, newPassword } = request.body;
    // Only the session making the change lives on; a change made with an API token keeps none.
    const keep = requestCredentials(request).bearerToken === undefined ? request.cookies[SESSION_COOKIE] : undefined;
    await guard.attempt(`user:${principal.userId}`, request.ip, () => accounts.changePassword(db, principal.userId, currentPassword, newPassword, keep));
    return reply.status(204).send(null);
  });

  app.get('/api/v1/me/tokens', {
    schema: { tags: ['accounts'], summary: 'API tokens of the logged-in user', response: { 200: Type.Array(ApiTokenSchema), ...errors(401) } },
  }, async (request) => accounts.listApiTokens(db, requireUser(request.principal).userId));

  app.post('/api/v1/me/tokens', {
    schema: {
      tags: ['accounts'],
      summary: 'Create an API token for scripts, valid until revoked or until expiresAt; the token is shown only in this response',
      body: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 100 }),
        expiresAt: Type.Optional({ ...IsoDateTime, description: 'when the token stops working (in the future); omitted: valid until revoked' }),
      }, { additionalProperties: false }),
      response: { 201: Type.Intersect([ApiTokenSchema, Type.Object({ token: Type.String() })]), ...errors(400, 401) },
    },
  }, async (request, reply) => {
    const token = await accounts.createApiToken(db, requireUser(request.principal).userId, request.body.name, request.body.expiresAt);
    return reply.status(201).send(token);
  });

  app.delete('/api/v1/me/tokens/:id', {
    schema: { tags: ['accounts'], summary: 'Revoke an API token', params: IdParams, response: { 204: Type.Null(), ...errors(401, 404) } },
  }, async (request, reply) => {
    await accounts.revokeApiToken(db, requireUser(request.principal).userId, request.params.id);
    return reply.status(204).send(null);
  });

  app.get('/api/v1/users', {
    schema: { tags: ['accounts'], summary: 'All accounts (platform admins)', response: { 200: Type.Array(UserSchema), ...errors(401, 403) } },
  }, async (request) => {
    requireAdmin(request.principal);
    return accounts.listUsers(db);
  });
}
