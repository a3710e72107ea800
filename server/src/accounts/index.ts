/** accounts: the public surface other capabilities and the composition root use. */
export { activeMembership, canSeeMember, isManagerOf, isMemberOf, requireAdmin, requireManager, requireUser } from './policy.js';
export { type RateLimit, accountRoutes } from './routes.js';
export { hashPassword } from './secrets.js';
export { EmailNotVerified, requireVerifiedEmail } from './email-verification.js';
export { type AccountRecord, lockAccount, searchAccounts, setPlatformAdmin, unlockAccount } from './service.js';
export { DEFAULT_SESSION_IDLE_MS, type MembershipLookup, type User, createUser, ensureAdmin, findUserByEmail, getUser, resolvePrincipal } from './service.js';
export { pseudonymiseUser, usersByIds, type UserLocale } from './store.js';
export { upsertUserWithHash } from './store.js';
