import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_LINK_LIFETIME_MS, signLinkToken, verifyLinkToken } from '../../src/notifications/domain/link-tokens.js';
import { BadRequestError, UnauthorizedError } from '../../src/kernel/errors.js';

const secret = randomBytes(32);
const now = Date.parse('2026-11-03T12:00:00Z');
const claims = { purpose: 'password-reset' as const, subject: 'user-42', tokenId: randomBytes(16).toString('base64url'), issuedAtMs: now, expiresAtMs: now + 3_600_000 };
const passwordHash = '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g';

describe('signed single-use link tokens', () => {
  const token = signLinkToken({ ...claims, binding: passwordHash }, secret);

  it('verifies a genuine link before it expires and names its token id for the single-use store', () => {
    expect(verifyLinkToken(token, secret, { purpose: 'password-reset', nowMs: now + 3_599_999, binding: passwordHash }))
      .toEqual({ purpose: 'password-reset', subject: 'user-42', tokenId: claims.tokenId, expiresAtMs: claims.expiresAtMs });
    expect(token).not.toContain(passwordHash.slice(10));
  });

  it('refuses expired, repurposed, re-keyed, rebound and tampered links', () => {
    const refuse = (t: string, options: Partial<Parameters<typeof verifyLinkToken>[2]> = {}, key: Uint8Array = secret) =>
      expect(() => verifyLinkToken(t, key, { purpose: 'password-reset', nowMs: now, binding: passwordHash, ...options })).toThrow(UnauthorizedError);
    refuse(token, { nowMs: claims.expiresAtMs });
    expect(() => verifyLinkToken(token, secret, { purpose: 'password-reset', nowMs: claims.expiresAtMs, binding: passwordHash })).toThrow('this link has expired');
    refuse(token, { purpose: 'email-verification' });
    refuse(token, {}, randomBytes(32));
    refuse(token, { binding: '$argon2id$…the new password hash' }); // the password changed: the link is dead
    refuse(token, { binding: undefined });
    refuse(signLinkToken(claims, secret)); // unbound token where a binding is expected
    const [payload, mac] = token.split('.') as [string, string];
    const forged = Buffer.from(Buffer.from(payload, 'base64url').toString().replace('user-42', 'user-1')).toString('base64url');
    refuse(`${forged}.${mac}`);
    refuse(`${payload}.${mac}.extra`);
    refuse(`${payload}`);
    refuse('');
    refuse('x'.repeat(10_000));
    refuse(`${payload}.${mac.slice(0, -2)}`);
  });

  it('refuses to sign a link that lives too long, has no randomness or a short key', () => {
    expect(() => signLinkToken({ ...claims, expiresAtMs: now + MAX_LINK_LIFETIME_MS + 1 }, secret)).toThrow(BadRequestError);
    expect(() => signLinkToken({ ...claims, expiresAtMs: now }, secret)).toThrow(BadRequestError);
    expect(() => signLinkToken({ ...claims, tokenId: 'short' }, secret)).toThrow(BadRequestError);
    expect(() => signLinkToken(claims, randomBytes(16))).toThrow(/32 bytes/);
  });

  it('never accepts a random string or a bit-flipped token (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => {
      expect(() => verifyLinkToken(text, secret, { purpose: 'password-reset', nowMs: now, binding: passwordHash })).toThrow(UnauthorizedError);
    }), { numRuns: 200 });
    fc.assert(fc.property(fc.nat(token.length - 1), fc.constantFrom(...'ABCabc012-_'.split('')), (at, char) => {
      fc.pre(token[at] !== char && token[at] !== '.');
      const flipped = token.slice(0, at) + char + token.slice(at + 1);
      expect(() => verifyLinkToken(flipped, secret, { purpose: 'password-reset', nowMs: now, binding: passwordHash })).toThrow(UnauthorizedError);
    }), { numRuns: 200 });
  });

  it('accepts only the canonical spelling of its signature (the last character carries two unused bits)', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(token.at(-1)!);
    // Same signature bytes, another spelling: flipping an unused low bit leaves the decoded MAC as it was.
    const respelled = token.slice(0, -1) + alphabet[last ^ 1];
    expect(Buffer.from(respelled.split('.')[1]!, 'base64url')).toEqual(Buffer.from(token.split('.')[1]!, 'base64url'));
    expect(() => verifyLinkToken(respelled, secret, { purpose: 'password-reset', nowMs: now, binding: passwordHash })).toThrow(UnauthorizedError);
  });
});
