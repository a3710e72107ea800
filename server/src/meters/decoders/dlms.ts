import { FrameError, type DecodedFrame, type DecodeOptions, type MeterDecoder } from '../decoder.js';
import { decodeDataNotification } from '../dlms/cosem.js';
import { decipherGlo, GENERAL_GLO_CIPHERING } from '../dlms/glo-ciphering.js';
import { hdlcPayload, mbusDlmsPayload } from '../dlms/transport.js';
import { registerDecoder } from '../registry.js';

/** The APDU inside whatever carries it: HDLC (7E), wired M-Bus (68), or the APDU itself. */
export function dlmsApdu(frame: Uint8Array, options: DecodeOptions): Uint8Array {
  const ignoreCrc = options.ignoreCrc ?? false;
  if (frame[0] === 0x7e) return hdlcPayload(frame, ignoreCrc);
  if (frame[0] === 0x68) return mbusDlmsPayload(frame, ignoreCrc);
  return frame;
}

/**
 * DLMS/COSEM push messages as European smart meters send them on their customer interface
 * (Austria, Luxembourg, the Nordics, …): a DataNotification, in clear or in a
 * general-glo-ciphering envelope, over HDLC (with general block transfer) or wired M-Bus.
 */
export function decodeDlms(frame: Uint8Array, options: DecodeOptions): DecodedFrame {
  let apdu = dlmsApdu(frame, options);
  let meterId: string | undefined;
  if (apdu[0] === GENERAL_GLO_CIPHERING) {
    const opened = decipherGlo(apdu, options.key, options.authKey);
    apdu = opened.plaintext;
    meterId = Buffer.from(opened.systemTitle).toString('hex').toUpperCase();
  }
  if (apdu[0] !== 0x0f) throw new FrameError('format', `APDU 0x${(apdu[0] ?? 0).toString(16)} is not a DataNotification`);
  const decoded = decodeDataNotification(apdu, options, 'dlms');
  return { ...decoded, meterId: decoded.meterId ?? meterId };
}

export const dlms: MeterDecoder = {
  name: 'dlms',
  detect: (f) => (f[0] === 0x7e && (f[1]! & 0xf0) === 0xa0) || (f[0] === 0x68 && f[3] === 0x68 && f[6]! <= 0x1f) || f[0] === 0x0f || f[0] === GENERAL_GLO_CIPHERING,
  decode: decodeDlms,
};

registerDecoder(dlms);
