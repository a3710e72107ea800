import { FrameError, type DecodedFrame, type DecodeOptions, type MeterDecoder } from '../decoder.js';
import { decryptGloCiphering, GENERAL_GLO_CIPHERING } from '../dlms/glo-ciphering.js';
import { registerDecoder } from '../registry.js';
import { decodeDsmr } from './dsmr.js';

/**
 * Luxembourg's Smarty P1 port: a DSMR telegram inside a general-glo-ciphering envelope
 * (AES-128-GCM, 12-byte tag). The decrypted telegram passes the DSMR checks, CRC included.
 */
export function decodeSmarty(frame: Uint8Array, options: DecodeOptions): DecodedFrame {
  const opened = decryptGloCiphering(frame, options.key, options.authKey);
  if (opened.plaintext[0] !== 0x2f) throw new FrameError('format', 'the decrypted frame is not a DSMR telegram');
  const decoded = decodeDsmr(opened.plaintext, options);
  return { ...decoded, format: 'smarty', meterId: decoded.meterId ?? Buffer.from(opened.systemTitle).toString('latin1') };
}

export const smarty: MeterDecoder = {
  name: 'smarty',
  detect: (f) => f[0] === GENERAL_GLO_CIPHERING,
  decode: decodeSmarty,
};

registerDecoder(smarty);
