/**
 * The privacy core's only door to cryptography: HMAC-SHA-256 and SHA-256 from Node's crypto
 * module. Deterministic computations, not I/O, so the domain stays pure; randomness is never
 * drawn here (callers pass random bytes in), so every function of the core is repeatable.
 */
import { createHmac, hash } from 'node:crypto';

/** HMAC-SHA-256 of a UTF-8 text under a key, lower-case hex. */
export function hmacSha256Hex(key: Uint8Array, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('hex');
}

/** SHA-256 of a UTF-8 text, lower-case hex. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}
