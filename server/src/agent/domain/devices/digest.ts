import { createHash } from 'node:crypto';

/**
 * HTTP digest authentication (RFC 7616) as a Shelly Gen2/Gen3 asks for it once a password is set
 * on the device: `401` with `WWW-Authenticate: Digest qop="auth", realm="<device id>",
 * nonce="…", algorithm=SHA-256`, user `admin`. Only `qop=auth` is spoken (what every Shelly
 * offers); the hash is SHA-256, or MD5 for a device that names it.
 */
export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque: string | undefined;
  readonly algorithm: 'SHA-256' | 'MD5';
}

export interface DigestRequest {
  readonly username: string;
  readonly password: string;
  readonly method: string;
  readonly uri: string;
  /** The client's nonce: random, fresh for each request. */
  readonly cnonce: string;
  /** How many requests this nonce has signed, this one included (1, 2, …). */
  readonly nc: number;
}

const PARAM = /([A-Za-z-]+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;

/** The digest challenge of a `WWW-Authenticate` header, or why it cannot be answered. */
export function parseDigestChallenge(header: string | null): DigestChallenge | { readonly problem: string } {
  if (header === null || !/^\s*Digest\s/i.test(header)) return { problem: 'asks for a password without a digest challenge' };
  const params = new Map<string, string>();
  for (const match of header.replace(/^\s*Digest\s/i, '').matchAll(PARAM)) {
    params.set(match[1]!.toLowerCase(), (match[2] ?? match[3]!).replace(/\\(.)/g, '$1'));
  }
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined || nonce === '') return { problem: 'sent a digest challenge without realm or nonce' };
  const qop = params.get('qop');
  if (qop !== undefined && !qop.split(',').map((q) => q.trim()).includes('auth')) return { problem: `offers digest qop ${qop}, not auth` };
  const algorithm = (params.get('algorithm') ?? 'MD5').toUpperCase();
  if (algorithm !== 'SHA-256' && algorithm !== 'MD5') return { problem: `asks for digest algorithm ${algorithm} (SHA-256 and MD5 are spoken)` };
  return { realm, nonce, opaque: params.get('opaque'), algorithm };
}

const hash = (algorithm: DigestChallenge['algorithm'], text: string) => createHash(algorithm === 'SHA-256' ? 'sha256' : 'md5').update(text, 'utf8').digest('hex');
const quoted = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;

/** The `Authorization` header answering a challenge. */
export function digestAuthorization(challenge: DigestChallenge, request: DigestRequest): string {
  const nc = request.nc.toString(16).padStart(8, '0');
  const ha1 = hash(challenge.algorithm, `${request.username}:${challenge.realm}:${request.password}`);
  const ha2 = hash(challenge.algorithm, `${request.method}:${request.uri}`);
  const response = hash(challenge.algorithm, `${ha1}:${challenge.nonce}:${nc}:${request.cnonce}:auth:${ha2}`);
  const fields = [
    `username=${quoted(request.username)}`, `realm=${quoted(challenge.realm)}`, `nonce=${quoted(challenge.nonce)}`, `uri=${quoted(request.uri)}`,
    `algorithm=${challenge.algorithm}`, 'qop=auth', `nc=${nc}`, `cnonce=${quoted(request.cnonce)}`, `response=${quoted(response)}`,
    ...(challenge.opaque === undefined ? [] : [`opaque=${quoted(challenge.opaque)}`]),
  ];
  return `Digest ${fields.join(', ')}`;
}
