/** Accounts, sessions, passwords and API tokens (server/src/accounts). */
import { Type, type Static } from 'typebox';
import { errors, IdParams, IsoDateTime, Uuid } from './common.js';
import { route } from './route.js';

const Email = Type.String({ format: 'email', maxLength: 254 });
// Long passphrases are welcome; the upper bound only protects the hasher.
const Password = Type.String({ minLength: 10, maxLength: 256 });

/** An emailed link's token (password reset, email verification): 32 random bytes, base64url. */
const LinkToken = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'the token from the emailed link (after #token=)' });

/** The languages a person may choose; null: their browser's, then their community's. */
export const UserLocale = Type.Union([Type.Literal('en'), Type.Literal('de')]);

export const PasswordResetAccepted = Type.Object({
  message: Type.Literal('if an account has this email, a link to reset its password is on its way', {
    description: 'the same answer whether or not the account exists',
  }),
});

export const User = Type.Object({
  id: Uuid,
  email: Type.String(),
  displayName: Type.String(),
  isAdmin: Type.Boolean(),
  mustChangePassword: Type.Boolean(),
  createdAt: IsoDateTime,
  emailVerifiedAt: Type.Union([IsoDateTime, Type.Null()], {
    description: 'when the account proved it receives mail at its address; null: not yet (it cannot found a community, accept an invitation, be approved or be made a manager)',
  }),
  locale: Type.Union([UserLocale, Type.Null()], {
    description: 'the language of the app, dates, numbers, documents and emails; null: the browser\'s, then the community\'s',
  }),
});

export const Membership = Type.Object({
  memberId: Uuid,
  communityId: Uuid,
  role: Type.Union([Type.Literal('member'), Type.Literal('manager')]),
  state: Type.Union([Type.Literal('requested'), Type.Literal('active'), Type.Literal('rejected'), Type.Literal('left')]),
  communitySuspended: Type.Optional(Type.Literal(true, { description: 'the community is suspended: the membership grants nothing until it is resumed' })),
});

export const Me = Type.Object({ user: User, memberships: Type.Array(Membership) });

export const ApiToken = Type.Object({
  id: Uuid,
  name: Type.String(),
  createdAt: IsoDateTime,
  lastUsedAt: Type.Union([IsoDateTime, Type.Null()]),
  expiresAt: Type.Union([IsoDateTime, Type.Null()], { description: 'null: valid until revoked' }),
});

export type User = Static<typeof User>;
export type Membership = Static<typeof Membership>;
export type Me = Static<typeof Me>;
export type ApiToken = Static<typeof ApiToken>;
export type PasswordResetAccepted = Static<typeof PasswordResetAccepted>;
export type UserLocale = Static<typeof UserLocale>;

export const accountRoutes = {
  signup: route('POST', '/api/v1/auth/signup', {
    tags: ['accounts'],
    summary: 'Create an account and log in',
    security: [],
    body: Type.Object(
      {
        email: Email, password: Password, displayName: Type.String({ minLength: 1, maxLength: 100 }),
        invitationToken: Type.Optional(Type.String({
          pattern: '^[A-Za-z0-9_-]{43}$',
          description: 'the token of an emailed invitation\'s sign-up link; when it was sent to this email, the address counts as verified',
        })),
      },
      { additionalProperties: false },
    ),
    response: { 201: User, ...errors(400, 409, 429) },
  }),
  login: route('POST', '/api/v1/auth/login', {
    tags: ['accounts'],
    summary: 'Log in with email and password; sets the session cookie',
    security: [],
    body: Type.Object({ email: Email, password: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false }),
    response: { 200: User, ...errors(400, 401, 403, 429) },
  }),
  requestPasswordReset: route('POST', '/api/v1/auth/password-reset', {
    tags: ['accounts'],
    summary: 'Email a link to reset the password (valid for an hour, once; a newer link replaces it). '
      + 'The same answer whether or not an account has this email; limited per email and per address',
    security: [],
    body: Type.Object({ email: Email }, { additionalProperties: false }),
    response: { 202: PasswordResetAccepted, ...errors(400, 429) },
  }),
  confirmPasswordReset: route('POST', '/api/v1/auth/password-reset/confirm', {
    tags: ['accounts'],
    summary: 'Set a new password with the token of a reset link; ends every session of the account and revokes its API tokens. '
      + 'An unknown, used, replaced or expired token is a 400 (reason "invalid" or "expired") and changes nothing',
    security: [],
    body: Type.Object({ token: LinkToken, newPassword: Password }, { additionalProperties: false }),
    response: { 204: Type.Null(), ...errors(400) },
  }),
  confirmEmail: route('POST', '/api/v1/auth/verify-email', {
    tags: ['accounts'],
    summary: 'Verify the account\'s email address with the token of the emailed link (valid for 24 hours, once; a newer link replaces it). '
      + 'An unknown, used, replaced or expired token is a 400 (reason "invalid" or "expired") and changes nothing',
    security: [],
    body: Type.Object({ token: LinkToken }, { additionalProperties: false }),
    response: { 204: Type.Null(), ...errors(400) },
  }),
  resendVerificationEmail: route('POST', '/api/v1/me/verification-email', {
    tags: ['accounts'],
    summary: 'Email a new verification link to the logged-in account (the older one stops working); '
      + 'limited per account (3 an hour) and per address (20 an hour); 409 when the address is verified already',
    response: { 202: Type.Null(), ...errors(401, 409, 429) },
  }),
  updateMe: route('PATCH', '/api/v1/me', {
    tags: ['accounts'],
    summary: 'Change the logged-in user\'s settings: the language (null: follow the browser, then the community)',
    body: Type.Object({ locale: Type.Union([UserLocale, Type.Null()]) }, { additionalProperties: false }),
    response: { 200: User, ...errors(400, 401) },
  }),
  logout: route('POST', '/api/v1/auth/logout', {
    tags: ['accounts'], summary: 'End the browser session', response: { 204: Type.Null() },
  }),
  me: route('GET', '/api/v1/me', {
    tags: ['accounts'], summary: 'The logged-in user and their memberships', response: { 200: Me, ...errors(401) },
  }),
  changePassword: route('POST', '/api/v1/me/password', {
    tags: ['accounts'],
    summary: 'Change the password (required first for one-time passwords). Ends every other session and revokes every API token, '
      + 'including the one making this request; failed attempts are limited like log-ins',
    body: Type.Object({ currentPassword: Type.String({ maxLength: 256 }), newPassword: Password }, { additionalProperties: false }),
    response: { 204: Type.Null(), ...errors(400, 401, 403, 429) },
  }),
  listApiTokens: route('GET', '/api/v1/me/tokens', {
    tags: ['accounts'], summary: 'API tokens of the logged-in user', response: { 200: Type.Array(ApiToken), ...errors(401) },
  }),
  createApiToken: route('POST', '/api/v1/me/tokens', {
    tags: ['accounts'],
    summary: 'Create an API token for scripts, valid until revoked or until expiresAt; the token is shown only in this response',
    body: Type.Object({
      name: Type.String({ minLength: 1, maxLength: 100 }),
      expiresAt: Type.Optional({ ...IsoDateTime, description: 'when the token stops working (in the future); omitted: valid until revoked' }),
    }, { additionalProperties: false }),
    response: { 201: Type.Intersect([ApiToken, Type.Object({ token: Type.String() })]), ...errors(400, 401) },
  }),
  revokeApiToken: route('DELETE', '/api/v1/me/tokens/:id', {
    tags: ['accounts'], summary: 'Revoke an API token', params: IdParams, response: { 204: Type.Null(), ...errors(401, 404) },
  }),
  listUsers: route('GET', '/api/v1/users', {
    tags: ['accounts'], summary: 'All accounts (platform admins)', response: { 200: Type.Array(User), ...errors(401, 403) },
  }),
};
