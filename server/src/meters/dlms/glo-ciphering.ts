import { createCipheriv, createDecipheriv } from 'node:crypto';
import { FrameError } from '../decoder.js';
import { AxdrReader } from './axdr.js';

export const GENERAL_GLO_CIPHERING = 0xdb;
const TAG_LENGTH = 12;

export interface Deciphered {
  readonly systemTitle: Uint8Array;
  readonly frameCounter: number;
  readonly securityControl: number;
  readonly plaintext: Buffer;
}

/**
 * Opens a general-glo-ciphering APDU (0xDB, DLMS security suite 0: AES-128-GCM). The IV is the
 * system title followed by the frame counter. With authentication (SC bit 0x10) the 12-byte tag
 * must verify, with AAD = SC ‖ AK when an authentication key is known (AAD empty otherwise, as
 * some P1 ports send it); a wrong key or a changed byte is refused. Encryption alone (SC 0x20)
 * carries no tag: GCM's keystream is then AES-CTR starting at counter 2.
 */
export function decipherGlo(apdu: Uint8Array, key: Uint8Array | undefined, authKey: Uint8Array | undefined): Deciphered {
  const reader = new AxdrReader(apdu);
  if (reader.byte() !== GENERAL_GLO_CIPHERING) throw new FrameError('format', 'not a general-glo-ciphering APDU');
  const systemTitle = reader.take(reader.length());
  if (systemTitle.length !== 8) throw new FrameError('format', `system title of ${systemTitle.length} bytes`);
  const length = reader.length();
  const body = reader.take(length);
  if (body.length < 5) throw new FrameError('truncated', 'no security header');
  const securityControl = body[0]!;
  const frameCounter = Buffer.from(body).readUInt32BE(1);
  if ((securityControl & 0x0f) !== 0) throw new FrameError('unsupported', `security suite ${securityControl & 0x0f}`);
  if (!(securityControl & 0x20)) throw new FrameError('unsupported', 'authentication without encryption');
  if (!key) throw new FrameError('key-required', 'the frame is encrypted: store the meter\'s encryption key (GUEK)');
  if (key.length !== 16) throw new FrameError('format', 'the encryption key is 16 bytes');
  const iv = Buffer.concat([systemTitle, body.subarray(1, 5)]);
  const authenticated = (securityControl & 0x10) !== 0;
  const ciphertext = body.subarray(5, authenticated ? body.length - TAG_LENGTH : body.length);
  if (authenticated) {
    if (body.length < 5 + TAG_LENGTH) throw new FrameError('truncated', 'no authentication tag');
    const decipher = createDecipheriv('aes-128-gcm', key, iv, { authTagLength: TAG_LENGTH });
    decipher.setAAD(authKey ? Buffer.concat([Buffer.of(securityControl), authKey]) : Buffer.alloc(0));
    decipher.setAuthTag(body.subarray(body.length - TAG_LENGTH));
    const head = decipher.update(ciphertext);
    try {
      return { systemTitle, frameCounter, securityControl, plaintext: Buffer.concat([head, decipher.final()]) };
    } catch {
      throw new FrameError('auth-tag', 'the authentication tag does not verify (wrong key or authentication key, or a changed byte)');
    }
  }
  const counter = Buffer.concat([iv, Buffer.of(0, 0, 0, 2)]);
  const ctr = createCipheriv('aes-128-ctr', key, counter);
  return { systemTitle, frameCounter, securityControl, plaintext: Buffer.concat([ctr.update(ciphertext), ctr.final()]) };
}
