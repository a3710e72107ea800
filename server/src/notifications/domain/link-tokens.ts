import { createHmac, timingSafeEqual } from 'node:crypto';
import { BadRequestError, UnauthorizedError } from '../../kernel/errors.js';

/**
 * Signed links for password reset, email verification and invitations: `<payload>.<mac>`, both
 * base64url, the MAC an HMAC-SHA256 over the payload with a server secret. The payload names the
 * purpose (a verification link cannot reset a password), the subject (user or invitation id), the
 * expiry and a random token id. Pure: the caller passes the time and the random id.
 *
 * Single use, twice over: the token id is consumed in a store when the link is used (phase 2: a
 * table keyed by token id, `INSERT … ON CONFLICT DO NOTHING`, rows kept until expiry), and a
 * `binding` — e.g. a digest of the current password hash — makes a reset link die by itself once
 * the password has changed, even if that store were lost.
 */
export const LINK_PURPOSES = ['password-reset', 'email-verification', 'invitation'] as const;
export type LinkPurpose = (typeof LINK_PURPOSES)[number];

export interface LinkClaims {
  readonly purpose: LinkPurpose;
  readonly subject: string;
  readonly tokenId: string;
  readonly expiresAtMs: number;
}

/** Password reset and verification links live for hours, invitations for days; nothing longer. */
export const MAX_LINK_LIFETIME_MS = 14 * 24 * 3_600_000;
const MAX_TOKEN_LENGTH = 1024;

interface Payload { readonly p: LinkPurpose; readonly s: string; readonly i: string; readonly e: number; readonly b?: string }

function checkSecret(secret: Uint8Array): void {
  if (secret.byteLength < 32) throw new Error('a link secret has at least 32 bytes');
}

const mac = (secret: Uint8Array, payload: string) => createHmac('sha256', secret).update(payload).digest();
/** The binding enters the token only as a keyed digest: the link reveals nothing about it. */
const bindingDigest = (secret: Uint8Array, binding: string) => createHmac('sha256', secret).update(`binding\0${binding}`).digest('base64url').slice(0, 22);

export function signLinkToken(
  claims: LinkClaims & { readonly issuedAtMs: number; readonly binding?: string },
  secret: Uint8Array,
): string {
  checkSecret(secret);
  if (!LINK_PURPOSES.includes(claims.purpose)) throw new BadRequestError(`unknown link purpose "${claims.purpose}"`);
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(claims.tokenId)) throw new BadRequestError('a token id is 16–64 random base64url characters');
  if (claims.subject === '' || claims.subject.length > 200) throw new BadRequestError('a link names its subject in at most 200 characters');
  const lifetime = claims.expiresAtMs - claims.issuedAtMs;
  if (!Number.isSafeInteger(claims.expiresAtMs) || !(lifetime > 0 && lifetime <= MAX_LINK_LIFETIME_MS)) {
    throw new BadRequestError(`a link expires after it is issued and within ${MAX_LINK_LIFETIME_MS / 86_400_000} days`);
  }
  const payload: Payload = {
    p: claims.purpose, s: claims.subject, i: claims.tokenId, e: claims.expiresAtMs,
    ...(claims.binding !== undefined ? { b: bindingDigest(secret, claims.binding) } : {}),
  };
  const encoded = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${encoded}.${mac(secret, encoded).toString('base64url')}`;
}

/**
 * The claims of a genuine, unexpired link for `purpose` whose binding still holds; otherwise an
 * UnauthorizedError that says as little as possible (an expired link is told apart, so the page
 * can offer a new one). Consuming the token id is the caller's next step.
 */
export function verifyLinkToken(
  token: string,
  secret: Uint8Array,
  expected: { readonly purpose: LinkPurpose; readonly nowMs: number; readonly binding?: string },
): LinkClaims {
  checkSecret(secret);
  const invalid = () => new UnauthorizedError('this link is not valid');
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw invalid();
  const [encoded, signature, extra] = token.split('.');
  if (!encoded || !signature || extra !== undefined || !/^[A-Za-z0-9_-]+$/.test(encoded + signature)) throw invalid();
  const given = Buffer.from(signature, 'base64url');
  // The last character of a 32-byte MAC carries unused bits: only the canonical spelling is the token.
  if (given.toString('base64url') !== signature) throw invalid();
  const wanted = mac(secret, encoded);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) throw invalid();
  let payload: Payload;
  try {
    payload = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as Payload;
  } catch {
    throw invalid();
  }
  if (payload.p !== expected.purpose) throw invalid();
  if (!(expected.nowMs < payload.e)) throw new UnauthorizedError('this link has expired');
  if (payload.b !== undefined || expected.binding !== undefined) {
    if (payload.b === undefined || expected.binding === undefined || payload.b !== bindingDigest(secret, expected.binding)) throw invalid();
  }
  return { purpose: payload.p, subject: payload.s, tokenId: payload.i, expiresAtMs: payload.e };
}

/**
 * The store contract phase 2 implements: records a used token id until its expiry; false when
 * it was used before (the link is then refused as "already used").
 */
export interface ConsumedLinkStore {
  consume(tokenId: string, expiresAtMs: number): Promise<boolean>;
}
