import { createHash, randomBytes } from 'node:crypto';

/** A device key: 256 random bits, base64, as IoT hubs issue them. */
export function generateDeviceKey(): string {
  return randomBytes(32).toString('base64');
}

/** Device ids: not guessable (80 random bits) and never reused (checked against every id issued). */
export function generateDeviceId(): string {
  return `gs-${randomBytes(10).toString('hex')}`;
}

// Crockford base32: no I, L, O, U, so a code read off a sticker is typed right.
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A one-time claim code, 60 random bits, grouped for typing: `7K2Q-M9XD-4RTA`. */
export function generateClaimCode(): string {
  const bytes = randomBytes(12);
  let code = '';
  for (let i = 0; i < 12; i++) {
    if (i > 0 && i % 4 === 0) code += '-';
    code += CROCKFORD[bytes[i]! & 31];
  }
  return code;
}

/** Accepts what people type: lower case, spaces, missing dashes, O for 0, I and L for 1. */
export function normaliseClaimCode(input: string): string | undefined {
  const compact = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (!/^[0-9A-HJKMNP-TV-Z]{12}$/.test(compact)) return undefined;
  return `${compact.slice(0, 4)}-${compact.slice(4, 8)}-${compact.slice(8)}`;
}

/** Claim codes are stored as a hash only: a database leak does not let anyone claim a device. */
export function hashClaimCode(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}
