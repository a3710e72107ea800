import { createCipheriv, createDecipheriv } from 'node:crypto';
import { FrameError } from '../decoder.js';
import { AxdrReader } from './axdr.js';

export const GENERAL_GLO_CIPHERING = 0xdb;
const TAG_LENGTH = 12;
const SYSTEM_TITLE_LENGTH = 8;
/** Security control byte (security header): suite id in bits 0–3, then A, E, key set, compression. */
const SC_AUTHENTICATION = 0x10;
const SC_ENCRYPTION = 0x20;
const SC_COMPRESSION = 0x80;
const SC_SUITE = 0x0f;
/**
 * Suites whose symmetric part is AES-GCM-128 with this APDU layout: suite 0, and suite 1, which
 * adds ECDH key agreement and ECDSA signatures (not used on a push port) to the same cipher. Austrian
 * meters (Kaifa MA309 in Tirol) send suite 1 on their customer interface.
 */
const AES_GCM_128_SUITES: ReadonlySet<number> = new Set([0, 1]);
const OTHER_SUITES: Readonly<Record<number, string>> = { 2: ' (AES-GCM-256 with ECDH P-384)' };

export interface Deciphered {
  readonly systemTitle: Uint8Array;
  readonly frameCounter: number;
  readonly securityControl: number;
  /** Whether a GCM tag vouched for the plaintext (SC 0x30); without one (SC 0x20) a wrong key gives garbage. */
  readonly authenticated: boolean;
  readonly plaintext: Buffer;
}

/**
 * Opens a general-glo-ciphering APDU (0xDB, DLMS security suite 0 or 1: AES-128-GCM):
 * DB | system title (A-XDR length + 8 bytes) | length | SC | frame counter (4) | ciphertext | tag?
 *
 * The IV is the system title followed by the frame counter. With authentication (SC bit 0x10) the
 * 12-byte tag must verify, with AAD = SC ‖ AK when an authentication key is known and AAD empty
 * otherwise (as Luxembourg's Smarty P1 port sends it); a wrong key or a changed byte is refused with
 * `auth-tag`. Encryption alone (SC 0x20) carries no tag: GCM's keystream is then AES-CTR starting at
 * counter block IV ‖ 00000002, and only the structure of the plaintext can tell a wrong key.
 */
export function decryptGloCiphering(apdu: Uint8Array, key: Uint8Array | undefined, authKey: Uint8Array | undefined): Deciphered {
  const reader = new AxdrReader(apdu);
  if (reader.byte() !== GENERAL_GLO_CIPHERING) throw new FrameError('format', 'not a general-glo-ciphering APDU');
  const systemTitle = reader.take(reader.length());
  if (systemTitle.length !== SYSTEM_TITLE_LENGTH) throw new FrameError('format', `system title of ${systemTitle.length} bytes`);
  const body = reader.take(reader.length());
  if (reader.remaining !== 0) throw new FrameError('format', `${reader.remaining} bytes after the ciphered APDU`);
  if (body.length < 5) throw new FrameError('truncated', 'no security header');
  const securityControl = body[0]!;
  const frameCounter = ((body[1]! << 24) >>> 0) + ((body[2]! << 16) | (body[3]! << 8) | body[4]!);
  const suite = securityControl & SC_SUITE;
  if (!AES_GCM_128_SUITES.has(suite)) throw new FrameError('unsupported', `security suite ${suite}${OTHER_SUITES[suite] ?? ''}`);
  if (securityControl & SC_COMPRESSION) throw new FrameError('unsupported', 'compressed APDU');
  if (!(securityControl & SC_ENCRYPTION)) throw new FrameError('unsupported', 'authentication without encryption');
  if (!key) throw new FrameError('key-required', 'the frame is encrypted: store the meter\'s encryption key (GUEK)');
  if (key.length !== 16) throw new FrameError('format', 'the encryption key is 16 bytes');
  if (authKey && authKey.length !== 16) throw new FrameError('format', 'the authentication key is 16 bytes');
  const iv = Buffer.concat([systemTitle, body.subarray(1, 5)]);
  const authenticated = (securityControl & SC_AUTHENTICATION) !== 0;
  if (authenticated) {
    if (body.length < 5 + TAG_LENGTH) throw new FrameError('truncated', 'no authentication tag');
    const decipher = createDecipheriv('aes-128-gcm', key, iv, { authTagLength: TAG_LENGTH });
    decipher.setAAD(authKey ? Buffer.concat([Buffer.of(securityControl), authKey]) : Buffer.alloc(0));
    decipher.setAuthTag(body.subarray(body.length - TAG_LENGTH));
    const head = decipher.update(body.subarray(5, body.length - TAG_LENGTH));
    let tail: Buffer;
    try {
      tail = decipher.final();
    } catch {
      throw new FrameError('auth-tag', 'the authentication tag does not verify (wrong key or authentication key, or a changed byte)');
    }
    return { systemTitle, frameCounter, securityControl, authenticated, plaintext: Buffer.concat([head, tail]) };
  }
  const ctr = createCipheriv('aes-128-ctr', key, Buffer.concat([iv, Buffer.of(0, 0, 0, 2)]));
  const plaintext = Buffer.concat([ctr.update(body.subarray(5)), ctr.final()]);
  return { systemTitle, frameCounter, securityControl, authenticated, plaintext };
}

/** The same function under the name the Smarty decoder imports. */
