import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { required, element } from './codec.js';
import { UftpTransportError } from './errors.js';
import { uftpRole, type UftpRole } from './messages.js';
import { internetDomain, type ValueType } from './values.js';
import { ENVELOPE_LIMITS, readXml, writeXml, type XmlNode } from './xml.js';

/**
 * The SignedMessage envelope and UFTP's cryptographic scheme CS1: the payload XML is sealed with
 * libsodium's `crypto_sign` in combined mode, `Body = base64(Ed25519 signature (64 bytes) ‖
 * payload bytes)`. Ed25519 is deterministic (RFC 8032), so Node's crypto produces exactly the
 * bytes libsodium does for the same key and message; keys are kept in libsodium's formats (a
 * 32-byte public key, a 64-byte secret key = seed ‖ public key), as participants exchange them.
 */

const SIGNATURE_BYTES = 64;

export interface SigningKey {
  /** 32-byte Ed25519 public key, as published to the other participants. */
  readonly publicKey: Uint8Array;
  readonly privateKey: KeyObject;
}

const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/** Strict base64 (xs:base64Binary allows spaces between groups); undefined for anything else. */
export function decodeBase64(textValue: string): Uint8Array | undefined {
  const compact = textValue.replace(/[ \t\r\n]/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  const bytes = Buffer.from(compact, 'base64');
  // Buffer ignores non-canonical trailing bits; re-encoding catches them.
  return bytes.toString('base64') === compact ? new Uint8Array(bytes) : undefined;
}

function keyBytes(textValue: string, length: number, what: string): Uint8Array {
  const bytes = decodeBase64(textValue.trim());
  if (!bytes || bytes.length !== length) throw new Error(`${what} must be ${length} bytes in base64`);
  return bytes;
}

/** A public key from its base64 text (libsodium `crypto_sign_PUBLICKEYBYTES` = 32). */
export function parsePublicKey(textValue: string): Uint8Array {
  return keyBytes(textValue, 32, 'an Ed25519 public key');
}

/**
 * A signing key from libsodium's 64-byte secret key (seed ‖ public key), base64. libsodium
 * signs with the public half it is given, so a secret key whose halves do not belong together
 * would sign messages nobody can verify: it is refused here.
 */
export function signingKeyFromSecret(secretKey: Uint8Array | string): SigningKey {
  const bytes = typeof secretKey === 'string' ? keyBytes(secretKey, 64, 'an Ed25519 secret key (seed ‖ public key)') : secretKey;
  if (bytes.length !== 64) throw new Error('an Ed25519 secret key (seed ‖ public key) must be 64 bytes');
  const seed = bytes.subarray(0, 32);
  const publicKey = bytes.subarray(32);
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: base64url(seed), x: base64url(publicKey) }, format: 'jwk' });
  const derived = createPublicKey(privateKey).export({ format: 'jwk' }).x;
  if (derived !== base64url(publicKey)) throw new Error('the public half of the secret key does not belong to its seed');
  return { publicKey: new Uint8Array(publicKey), privateKey };
}

/** A new Ed25519 key pair (the AGR's own, `gridshare uftp keygen`). */
export function generateSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return signingKeyFromSecret(new Uint8Array(Buffer.concat([Buffer.from(jwk.d!, 'base64url'), Buffer.from(jwk.x!, 'base64url')])));
}

/** The key pair as libsodium stores it: 64-byte secret key (seed ‖ public key). */
export function secretKeyBytes(key: SigningKey): Uint8Array {
  const seed = Buffer.from(key.privateKey.export({ format: 'jwk' }).d ?? '', 'base64url');
  return new Uint8Array(Buffer.concat([seed, key.publicKey]));
}

/** `crypto_sign`: signature ‖ message. */
export function seal(payload: Uint8Array, key: SigningKey): Uint8Array {
  const signature = sign(null, payload, key.privateKey);
  const sealed = new Uint8Array(SIGNATURE_BYTES + payload.length);
  sealed.set(signature, 0);
  sealed.set(payload, SIGNATURE_BYTES);
  return sealed;
}

/**
 * `crypto_sign_open`: the payload if the signature verifies under one of the sender's keys (two
 * during a key rotation), else a `bad_signature` refusal.
 */
export function unseal(sealed: Uint8Array, publicKeys: readonly Uint8Array[]): Uint8Array {
  if (sealed.length < SIGNATURE_BYTES) throw new UftpTransportError('bad_signature', 'the body is shorter than a signature');
  const signature = sealed.subarray(0, SIGNATURE_BYTES);
  const payload = sealed.subarray(SIGNATURE_BYTES);
  for (const publicKey of publicKeys) {
    if (publicKey.length !== 32) continue;
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: base64url(publicKey) }, format: 'jwk' });
    if (verify(null, payload, key, signature)) return payload;
  }
  throw new UftpTransportError('bad_signature', 'the signature does not verify with the sender’s public key');
}

const base64Body: ValueType<Uint8Array> = {
  describe: 'base64',
  parse: decodeBase64,
  format: (bytes) => Buffer.from(bytes).toString('base64'),
};

const SignedMessageCodec = element({
  senderDomain: required('SenderDomain', internetDomain),
  senderRole: required('SenderRole', uftpRole),
  body: required('Body', base64Body),
});

export interface SignedMessage {
  readonly senderDomain: string;
  readonly senderRole: UftpRole;
  /** The sealed payload: signature ‖ payload XML bytes. */
  readonly body: Uint8Array;
}

export function readSignedMessage(xml: string | Uint8Array): SignedMessage {
  return decodeSignedMessage(readXml(xml, ENVELOPE_LIMITS, 'SignedMessage'));
}

export function decodeSignedMessage(root: XmlNode): SignedMessage {
  if (root.name !== 'SignedMessage') throw new UftpTransportError('invalid_message', `expected <SignedMessage>, got <${root.name}>`);
  return SignedMessageCodec.read(root, '/SignedMessage');
}

export function writeSignedMessage(envelope: SignedMessage): string {
  return writeXml(SignedMessageCodec.write('SignedMessage', envelope));
}
