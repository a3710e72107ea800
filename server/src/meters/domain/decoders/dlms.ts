import { FrameError, type DecodedFrame, type DecodeOptions, type MeterDecoder } from '../decoder.js';
import { DATA_NOTIFICATION, decodeDataNotification } from '../dlms/cosem.js';
import { decryptGloCiphering, GENERAL_GLO_CIPHERING } from '../dlms/glo-ciphering.js';
import { GENERAL_BLOCK_TRANSFER, generalBlockTransfer, hdlcApdu } from '../dlms/hdlc.js';
import { DLMS_CI_MAX, mbusDlmsApdu } from '../dlms/mbus-transport.js';
import { registerDecoder } from '../registry.js';

const HDLC_FLAG = 0x7e;
const MBUS_LONG_FRAME = 0x68;

/** The APDU inside whatever carries it: HDLC (7E), wired M-Bus (68), General Block Transfer (E0), or the APDU itself. */
export function dlmsApdu(frame: Uint8Array, options: DecodeOptions): Uint8Array {
  const ignoreCrc = options.ignoreCrc ?? false;
  if (frame[0] === HDLC_FLAG) return hdlcApdu(frame, ignoreCrc);
  if (frame[0] === MBUS_LONG_FRAME) return mbusDlmsApdu(frame, ignoreCrc);
  if (frame[0] === GENERAL_BLOCK_TRANSFER) return generalBlockTransfer(frame);
  return frame;
}

/**
 * DLMS/COSEM push messages as European smart meters send them on their customer interface
 * (Austria, the Nordics, …): a DataNotification, in clear or in a general-glo-ciphering envelope,
 * over HDLC (with general block transfer) or wired M-Bus, or the bare APDU.
 *
 * Encrypted without a tag (SC 0x20), a wrong key cannot be detected cryptographically: the
 * decrypted bytes are then refused as `format` by the A-XDR and COSEM checks, never read.
 */
export function decodeDlms(frame: Uint8Array, options: DecodeOptions): DecodedFrame {
  let apdu = dlmsApdu(frame, options);
  let systemTitle: string | undefined;
  let unauthenticated = false;
  if (apdu[0] === GENERAL_GLO_CIPHERING) {
    const opened = decryptGloCiphering(apdu, options.key, options.authKey);
    apdu = opened.plaintext;
    systemTitle = Buffer.from(opened.systemTitle).toString('hex').toUpperCase();
    unauthenticated = !opened.authenticated;
  }
  const hint = unauthenticated ? ' (encrypted without a tag: a wrong key?)' : '';
  if (apdu[0] !== DATA_NOTIFICATION) throw new FrameError('format', `APDU 0x${(apdu[0] ?? 0).toString(16)} is not a DataNotification${hint}`);
  let decoded: DecodedFrame;
  try {
    decoded = decodeDataNotification(apdu, options, 'dlms');
  } catch (error) {
    // Garbage from a wrong key is not a truncated frame.
    if (unauthenticated && error instanceof FrameError && error.code === 'truncated') throw new FrameError('format', `${error.message}${hint}`);
    throw error;
  }
  return { ...decoded, meterId: decoded.meterId ?? systemTitle };
}

/** Cheap recognition: an HDLC frame of format type 3, a wired M-Bus long frame with a DLMS CI, or an APDU. */
export function detectDlms(f: Uint8Array): boolean {
  if (f[0] === HDLC_FLAG) return f.length > 2 && (f[1]! & 0xf0) === 0xa0;
  if (f[0] === MBUS_LONG_FRAME) return f.length > 9 && f[3] === MBUS_LONG_FRAME && f[1] === f[2] && f[6]! <= DLMS_CI_MAX;
  return f[0] === DATA_NOTIFICATION || f[0] === GENERAL_GLO_CIPHERING || f[0] === GENERAL_BLOCK_TRANSFER;
}

export const dlms: MeterDecoder = { name: 'dlms', detect: detectDlms, decode: decodeDlms };

registerDecoder(dlms);
