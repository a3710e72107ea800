import sodium from 'libsodium-wrappers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodeBase64, parsePublicKey, readSignedMessage, seal, secretKeyBytes, signingKeyFromSecret, unseal, writeSignedMessage,
} from '../../src/flex/domain/uftp/envelope.js';
import { openSignedMessage, sealMessage, type Participant } from '../../src/flex/domain/uftp/inbound.js';
import { encodeMessage } from '../../src/flex/domain/uftp/messages.js';
import { writeXml } from '../../src/flex/domain/uftp/xml.js';
import { UftpEncodeError } from '../../src/flex/domain/uftp/errors.js';
import { AGR, DSO, example, flexOffer, flexRequest, publishedKeyPairs, schemas, uftpPresent, refusal } from './support.js';

beforeAll(async () => {
  await sodium.ready;
});

describe.skipIf(!uftpPresent)('UFTP signing interoperates with libsodium and the published test keys', () => {
  const pairs = uftpPresent ? publishedKeyPairs() : [];
  const payload = new TextEncoder().encode(uftpPresent ? example('FlexRequest.xml') : '');

  it.each(pairs.map((p) => [p.id, p] as const))('%s: the public key belongs to the secret key', (_id, pair) => {
    const key = signingKeyFromSecret(pair.secretKey_b64);
    expect(Buffer.from(key.publicKey).toString('base64')).toBe(pair.publicKey_b64);
    expect(Buffer.from(secretKeyBytes(key)).toString('base64')).toBe(pair.secretKey_b64);
  });

  it.each(pairs.map((p) => [p.id, p] as const))('%s: Gridshare seals exactly what crypto_sign does, and each opens the other', (_id, pair) => {
    const key = signingKeyFromSecret(pair.secretKey_b64);
    const secret = decodeBase64(pair.secretKey_b64)!;
    const publicKey = parsePublicKey(pair.publicKey_b64);
    const ours = seal(payload, key);
    const theirs = sodium.crypto_sign(payload, secret);
    expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
    expect(Buffer.from(sodium.crypto_sign_open(ours, publicKey)).equals(Buffer.from(payload))).toBe(true);
    expect(Buffer.from(unseal(theirs, [publicKey])).equals(Buffer.from(payload))).toBe(true);
  });

  it('a libsodium key pair made now works too (crypto_sign_keypair format)', () => {
    const generated = sodium.crypto_sign_keypair();
    const key = signingKeyFromSecret(generated.privateKey);
    expect(Buffer.from(key.publicKey).equals(Buffer.from(generated.publicKey))).toBe(true);
    const sealed = sodium.crypto_sign(payload, generated.privateKey);
    expect(Buffer.from(unseal(sealed, [generated.publicKey])).equals(Buffer.from(payload))).toBe(true);
  });

  it('refuses a tampered body, another key, a short body and a secret key whose halves do not belong together', () => {
    const [first, second] = pairs;
    const key = signingKeyFromSecret(first!.secretKey_b64);
    const sealed = seal(payload, key);
    const tampered = Uint8Array.from(sealed);
    tampered[100] = tampered[100]! ^ 1;
    expect(refusal(() => unseal(tampered, [key.publicKey]))).toBe('bad_signature');
    expect(refusal(() => unseal(sealed, [parsePublicKey(second!.publicKey_b64)]))).toBe('bad_signature');
    expect(refusal(() => unseal(sealed.subarray(0, 63), [key.publicKey]))).toBe('bad_signature');
    // During a key rotation the sender has two keys: either verifies.
    expect(unseal(sealed, [parsePublicKey(second!.publicKey_b64), key.publicKey])).toEqual(payload);
    const mixed = Buffer.concat([decodeBase64(first!.secretKey_b64)!.subarray(0, 32), parsePublicKey(second!.publicKey_b64)]);
    expect(() => signingKeyFromSecret(mixed.toString('base64'))).toThrow(/does not belong/);
    expect(() => parsePublicKey('AAAA')).toThrow(/32 bytes/);
  });
});

describe.skipIf(!uftpPresent)('UFTP: a SignedMessage from sealing to opening', () => {
  const pairs = uftpPresent ? publishedKeyPairs() : [];
  const dsoPair = pairs.find((p) => p.id.startsWith('python-demo-dso'))!;
  const agrPair = pairs.find((p) => p.id.startsWith('python-demo-aggregator'))!;
  const addressBook = (): Participant[] => [
    { domain: DSO, role: 'DSO', publicKeys: [parsePublicKey(dsoPair.publicKey_b64)] },
    { domain: AGR, role: 'AGR', publicKeys: [parsePublicKey(agrPair.publicKey_b64)] },
  ];

  it('a DSO’s FlexRequest opens, validated and typed, with its signer', () => {
    const request = flexRequest();
    const sealed = sealMessage(request, signingKeyFromSecret(dsoPair.secretKey_b64), 'DSO');
    expect(() => schemas().validate(sealed.signedXml, '3.1.0', { maxBytes: 1e6, maxDepth: 1, maxElements: 1, maxAttributeLength: 1e6 })).not.toThrow();
    const opened = openSignedMessage(sealed.signedXml, addressBook(), schemas());
    expect(opened.message).toEqual(request);
    expect(opened.signedBy).toEqual({ domain: DSO, role: 'DSO' });
    expect(opened.payloadXml).toBe(sealed.payloadXml);
    // libsodium opens what Gridshare sealed, from the envelope alone.
    const body = readSignedMessage(sealed.signedXml).body;
    expect(new TextDecoder().decode(sodium.crypto_sign_open(body, parsePublicKey(dsoPair.publicKey_b64)))).toBe(sealed.payloadXml);
  });

  it('an envelope libsodium sealed opens in Gridshare', () => {
    const offer = flexOffer(flexRequest());
    const payloadXml = writeXml(encodeMessage(offer));
    const body = sodium.crypto_sign(new TextEncoder().encode(payloadXml), decodeBase64(agrPair.secretKey_b64)!);
    const envelope = writeSignedMessage({ senderDomain: AGR, senderRole: 'AGR', body });
    expect(openSignedMessage(envelope, addressBook(), schemas()).message).toEqual(offer);
  });

  it('the same content gets the same fingerprint however it is formatted; other content another one', () => {
    const request = flexRequest();
    const key = signingKeyFromSecret(dsoPair.secretKey_b64);
    const a = openSignedMessage(sealMessage(request, key, 'DSO').signedXml, addressBook(), schemas());
    const reformatted = writeXml(encodeMessage(request)).replace(/\n\s*/g, ' ');
    const b = openSignedMessage(writeSignedMessage({ senderDomain: DSO, senderRole: 'DSO', body: seal(new TextEncoder().encode(reformatted), key) }), addressBook(), schemas());
    expect(b.fingerprint).toBe(a.fingerprint);
    const c = openSignedMessage(sealMessage({ ...request, revision: 2 }, key, 'DSO').signedXml, addressBook(), schemas());
    expect(c.fingerprint).not.toBe(a.fingerprint);
  });

  it('refuses an unknown or barred sender, a signature by someone else, and a payload that is not valid UFTP', () => {
    const request = flexRequest();
    const dsoKey = signingKeyFromSecret(dsoPair.secretKey_b64);
    const agrKey = signingKeyFromSecret(agrPair.secretKey_b64);
    const signed = sealMessage(request, dsoKey, 'DSO').signedXml;
    expect(refusal(() => openSignedMessage(signed, addressBook().filter((p) => p.role !== 'DSO'), schemas()))).toBe('unknown_sender');
    expect(refusal(() => openSignedMessage(signed, addressBook().map((p) => ({ ...p, barred: p.role === 'DSO' })), schemas()))).toBe('barred_sender');
    const forged = writeSignedMessage({ senderDomain: DSO, senderRole: 'DSO', body: seal(new TextEncoder().encode(writeXml(encodeMessage(request))), agrKey) });
    expect(refusal(() => openSignedMessage(forged, addressBook(), schemas()))).toBe('bad_signature');
    const invalid = writeSignedMessage({ senderDomain: DSO, senderRole: 'DSO', body: seal(new TextEncoder().encode(writeXml(encodeMessage(request)).replace(' Revision="1"', '')), dsoKey) });
    expect(refusal(() => openSignedMessage(invalid, addressBook(), schemas()))).toBe('not_schema_valid');
    const notUtf8 = writeSignedMessage({ senderDomain: DSO, senderRole: 'DSO', body: seal(Uint8Array.of(0x3c, 0xff, 0x3e), dsoKey) });
    expect(refusal(() => openSignedMessage(notUtf8, addressBook(), schemas()))).toBe('malformed_xml');
    // libxml2 lets "%%%" pass as xs:base64Binary; the typed reader does not.
    expect(refusal(() => openSignedMessage('<SignedMessage SenderDomain="dso.example.org" SenderRole="DSO" Body="%%%"/>', addressBook(), schemas()))).toBe('invalid_message');
    expect(refusal(() => openSignedMessage('<SignedMessage SenderDomain="dso.example.org" SenderRole="BRP" Body="AAAA"/>', addressBook(), schemas()))).toBe('not_schema_valid');
    expect(refusal(() => readSignedMessage('<SignedMessage SenderDomain="dso.example.org" SenderRole="BRP" Body="AAAA"/>'))).toBe('invalid_message');
    expect(refusal(() => openSignedMessage(writeXml(encodeMessage(request)), addressBook(), schemas()))).toBe('invalid_message');
  });

  it('refuses to seal a message the role does not send', () => {
    expect(() => sealMessage(flexRequest(), signingKeyFromSecret(agrPair.secretKey_b64), 'AGR')).toThrow(UftpEncodeError);
  });

  it('base64 bodies are read strictly: whitespace between groups is allowed, junk is not', () => {
    expect(decodeBase64('AAEC\nAw==')).toEqual(Uint8Array.of(0, 1, 2, 3));
    for (const bad of ['AAE', 'AA=C', 'AB==', '****']) expect(decodeBase64(bad)).toBeUndefined();
  });
});
