import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Shared access signatures as Azure IoT Hub defines them:
 *   SharedAccessSignature sr=<url-encoded resource>&sig=<url-encoded base64 HMAC>&se=<expiry, unix s>
 * where HMAC = HMAC-SHA256(key = base64-decoded device key, message = url-encoded resource + "\n" + expiry).
 */
export interface SasToken {
  readonly resource: string;
  readonly signature: string;
  readonly expiry: number;
}

export type SasFailure = 'malformed' | 'wrong-resource' | 'expired' | 'too-long-lived' | 'bad-signature';
export type SasVerification = { readonly ok: true; readonly keyIndex: number } | { readonly ok: false; readonly reason: SasFailure };

/** Tokens valid for longer than this are refused: a leaked token must not work for years. */
export const MAX_TOKEN_LIFETIME_S = 400 * 86_400;
const MAX_TOKEN_CHARS = 1024;

/** The resource a device's tokens are issued for: `<host>/devices/<device id>`. */
export function deviceResource(hostName: string, deviceId: string): string {
  return `${hostName}/devices/${deviceId}`;
}

function sign(encodedResource: string, expiry: number, key: string): string {
  return createHmac('sha256', Buffer.from(key, 'base64')).update(`${encodedResource}\n${expiry}`).digest('base64');
}

export function signSasToken(options: { resource: string; key: string; expiresAt: Date }): string {
  const expiry = Math.floor(options.expiresAt.getTime() / 1000);
  const encodedResource = encodeURIComponent(options.resource);
  const signature = sign(encodedResource, expiry, options.key);
  return `SharedAccessSignature sr=${encodedResource}&sig=${encodeURIComponent(signature)}&se=${expiry}`;
}

export function parseSasToken(text: string): SasToken | undefined {
  if (text.length > MAX_TOKEN_CHARS || !text.startsWith('SharedAccessSignature ')) return undefined;
  const fields = new Map<string, string>();
  for (const pair of text.slice('SharedAccessSignature '.length).split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return undefined;
    const name = pair.slice(0, eq);
    if (fields.has(name)) return undefined;
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(eq + 1));
    } catch {
      return undefined;
    }
    fields.set(name, value);
  }
  const resource = fields.get('sr');
  const signature = fields.get('sig');
  const expiryText = fields.get('se');
  for (const name of fields.keys()) if (!['sr', 'sig', 'se', 'skn'].includes(name)) return undefined;
  if (!resource || !signature || !expiryText || !/^\d{1,12}$/.test(expiryText)) return undefined;
  return { resource, signature, expiry: Number(expiryText) };
}

/**
 * Resource match: the host part case-insensitively (DNS names are), the device id exactly, so a
 * token made for one device never opens another.
 */
function sameResource(a: string, b: string): boolean {
  const [hostA, ...pathA] = a.split('/');
  const [hostB, ...pathB] = b.split('/');
  return hostA!.toLowerCase() === hostB!.toLowerCase() && pathA.join('/') === pathB.join('/');
}

export function verifySasToken(
  text: string,
  options: { expectedResource: string; keys: readonly string[]; now?: Date },
): SasVerification {
  const token = parseSasToken(text);
  if (!token) return { ok: false, reason: 'malformed' };
  if (!sameResource(token.resource, options.expectedResource)) return { ok: false, reason: 'wrong-resource' };
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (token.expiry <= now) return { ok: false, reason: 'expired' };
  if (token.expiry > now + MAX_TOKEN_LIFETIME_S) return { ok: false, reason: 'too-long-lived' };
  // Compared as canonical base64 text: decoding first would accept stray characters.
  const given = Buffer.from(token.signature);
  for (const [keyIndex, key] of options.keys.entries()) {
    const expected = Buffer.from(sign(encodeURIComponent(token.resource), token.expiry, key));
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true, keyIndex };
  }
  return { ok: false, reason: 'bad-signature' };
}
