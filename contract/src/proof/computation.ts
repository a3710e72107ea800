/**
 * How the proof checks reach cryptography without depending on one implementation of it. A check
 * is a generator (a `Computation`) that yields each SHA-256 and Ed25519 operation it needs and is
 * resumed with the result: the server runs it synchronously with Node's crypto (`runSync`, so
 * building and checking a log stays synchronous and fast), the browser asynchronously with
 * WebCrypto (`runWithWebCrypto`). Both run the same Merkle, note, receipt and did:key code.
 */
export type Bytes = Uint8Array;

export type CryptoOp =
  | { readonly op: 'sha256'; readonly data: Bytes }
  | { readonly op: 'ed25519-verify'; readonly publicKey: Bytes; readonly message: Bytes; readonly signature: Bytes };

/** A check that yields crypto operations and is resumed with their results (digest bytes or a verdict). */
export type Computation<T> = Generator<CryptoOp, T, Bytes | boolean>;

export const ED25519_PUBLIC_KEY_SIZE = 32;
export const ED25519_SIGNATURE_SIZE = 64;

export function* sha256(data: Bytes): Computation<Bytes> {
  const digest = yield { op: 'sha256', data };
  if (!(digest instanceof Uint8Array) || digest.length !== 32) throw new TypeError('the crypto driver answered a SHA-256 with something else than 32 bytes');
  return digest;
}

/** False for a wrong signature and for anything that is not an Ed25519 key or signature. */
export function* ed25519Verify(publicKey: Bytes, message: Bytes, signature: Bytes): Computation<boolean> {
  if (publicKey.length !== ED25519_PUBLIC_KEY_SIZE || signature.length !== ED25519_SIGNATURE_SIZE) return false;
  return (yield { op: 'ed25519-verify', publicKey, message, signature }) === true;
}

/** Synchronous primitives (Node's crypto on the server). */
export interface SyncCrypto {
  sha256(data: Bytes): Bytes;
  ed25519Verify(publicKey: Bytes, message: Bytes, signature: Bytes): boolean;
}

export function runSync<T>(computation: Computation<T>, crypto: SyncCrypto): T {
  let step = computation.next();
  while (!step.done) {
    const op = step.value;
    step = computation.next(op.op === 'sha256' ? crypto.sha256(op.data) : crypto.ed25519Verify(op.publicKey, op.message, op.signature));
  }
  return step.value;
}

// WebCrypto takes a BufferSource backed by an ArrayBuffer; a view into a larger or shared buffer is copied out first.
const own = (bytes: Bytes): Uint8Array<ArrayBuffer> => new Uint8Array(bytes);

/** WebCrypto's SubtleCrypto, as both the DOM and Node declare it. */
type Subtle = typeof globalThis.crypto.subtle;

/**
 * This browser cannot run a check: it offers no WebCrypto on this page (one not served over HTTPS
 * or from localhost) or no Ed25519 in it. Not a verdict on the proof: it says nothing was checked.
 */
export class CryptoUnavailableError extends Error {
  override readonly name = 'CryptoUnavailableError';

  constructor(readonly lacking: 'webcrypto' | 'ed25519') {
    super(lacking === 'webcrypto' ? 'this browser offers no WebCrypto on this page (it is not served over HTTPS)' : 'this browser\'s WebCrypto has no Ed25519');
  }
}

async function webCryptoVerify(subtle: Subtle, publicKey: Bytes, message: Bytes, signature: Bytes): Promise<boolean> {
  let key: Awaited<ReturnType<Subtle['importKey']>>;
  try {
    key = await subtle.importKey('raw', own(publicKey), { name: 'Ed25519' }, false, ['verify']);
  } catch (error) {
    if (error instanceof Error && error.name === 'NotSupportedError') throw new CryptoUnavailableError('ed25519');
    // A 32-byte string that is no point on the curve is refused at import: not a key, so not verified.
    return false;
  }
  try {
    return await subtle.verify({ name: 'Ed25519' }, key, own(signature), own(message));
  } catch {
    return false;
  }
}

/** Runs a check with WebCrypto (browsers; Node has it as globalThis.crypto.subtle too). */
export async function runWithWebCrypto<T>(computation: Computation<T>, subtle: Subtle | null = globalThis.crypto?.subtle ?? null): Promise<T> {
  if (!subtle) throw new CryptoUnavailableError('webcrypto');
  let step = computation.next();
  while (!step.done) {
    const op = step.value;
    const result = op.op === 'sha256'
      ? new Uint8Array(await subtle.digest('SHA-256', own(op.data)))
      : await webCryptoVerify(subtle, op.publicKey, op.message, op.signature);
    step = computation.next(result);
  }
  return step.value;
}
