import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { inspectUftp } from '../../src/flex/commands.js';
import { signingKeyFromSecret, parsePublicKey, seal, writeSignedMessage } from '../../src/flex/domain/uftp/envelope.js';
import { sealMessage } from '../../src/flex/domain/uftp/inbound.js';
import { UftpTransportError } from '../../src/flex/domain/uftp/errors.js';
import { VENDORED_SCHEMA_DIRECTORY } from '../../src/flex/uftp-schemas.js';
import { DSO, example, flexRequest, publishedKeyPairs, uftpPresent } from './support.js';

const XSD = VENDORED_SCHEMA_DIRECTORY;
const bytes = (text: string) => new TextEncoder().encode(text);

describe.skipIf(!uftpPresent)('gridshare uftp', () => {
  it('inspect reads a payload message and says which schema it is valid against', () => {
    const result = inspectUftp(bytes(example('FlexOrder.xml')), XSD);
    expect(result.schema).toBe('3.0.0');
    expect(result.message.type).toBe('FlexOrder');
    expect(result.envelope).toBeUndefined();
  });

  it('inspect verifies a SignedMessage with the sender’s public key, and refuses it with another', () => {
    const [dso, other] = publishedKeyPairs();
    const sealed = sealMessage(flexRequest(), signingKeyFromSecret(dso!.secretKey_b64), 'DSO');
    const verified = inspectUftp(bytes(sealed.signedXml), XSD, dso!.publicKey_b64);
    expect(verified.envelope).toEqual({ senderDomain: DSO, senderRole: 'DSO', signature: 'verified' });
    expect(verified.message.type).toBe('FlexRequest');
    expect(inspectUftp(bytes(sealed.signedXml), XSD).envelope!.signature).toBe('not checked');
    expect(() => inspectUftp(bytes(sealed.signedXml), XSD, other!.publicKey_b64)).toThrow(UftpTransportError);
    const garbage = writeSignedMessage({ senderDomain: DSO, senderRole: 'DSO', body: seal(bytes('<Hello/>'), signingKeyFromSecret(dso!.secretKey_b64)) });
    expect(() => inspectUftp(bytes(garbage), XSD, dso!.publicKey_b64)).toThrow(/not valid against the UFTP/);
  });

  it('keygen prints a libsodium key pair whose halves belong together', () => {
    const bin = fileURLToPath(new URL('../../bin/gridshare.js', import.meta.url));
    const pair = JSON.parse(execFileSync(process.execPath, [bin, 'uftp', 'keygen', '--json'], { encoding: 'utf8' })) as { publicKey: string; secretKey: string };
    const key = signingKeyFromSecret(pair.secretKey);
    expect(Buffer.from(key.publicKey).equals(Buffer.from(parsePublicKey(pair.publicKey)))).toBe(true);
  });
});
