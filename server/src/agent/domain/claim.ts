/**
 * The claim on a reader's QR sticker: `<platform>/claim?code=7K2Q-M9XD-4RTA`, or the code typed
 * off the sticker. The agent keeps it to show on its local page: the member opens it on a phone
 * to claim the reader for their metering point. It is no credential of the device (the sticker
 * never holds a key).
 */
export interface Claim {
  readonly code: string;
  /** The platform's claim page with the code, when a URL was given. */
  readonly url?: string | undefined;
}

const CODE = /^[0-9A-HJKMNP-TV-Z]{4}(?:-[0-9A-HJKMNP-TV-Z]{4}){2}$/;

export class ClaimError extends Error {}

export function parseClaim(input: string, expectedHost?: string): Claim {
  const trimmed = input.trim();
  if (/^https?:\/\//i.test(trimmed)) {
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      throw new ClaimError('the claim URL is not a URL');
    }
    const code = normaliseCode(url.searchParams.get('code') ?? '');
    if (url.pathname.replace(/\/+$/, '').split('/').pop() !== 'claim') throw new ClaimError('a claim URL ends in /claim?code=…');
    if (expectedHost !== undefined && url.hostname.toLowerCase() !== expectedHost.toLowerCase()) {
      throw new ClaimError(`the claim URL is for ${url.hostname}, but this reader belongs to ${expectedHost}`);
    }
    return { code, url: url.toString() };
  }
  return { code: normaliseCode(trimmed) };
}

function normaliseCode(raw: string): string {
  const compact = raw.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  const grouped = compact.replace(/(.{4})(?=.)/g, '$1-');
  if (!CODE.test(grouped)) throw new ClaimError('a claim code is 12 letters and digits, like 7K2Q-M9XD-4RTA');
  return grouped;
}
