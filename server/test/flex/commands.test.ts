import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { inspectUftp } from '../../src/flex/commands.js';
import { generateSigningKey, signingKeyFromSecret, parsePublicKey, seal, writeSignedMessage } from '../../src/flex/domain/uftp/envelope.js';
import { openSignedMessage, sealMessage } from '../../src/flex/domain/uftp/inbound.js';
import { UftpTransportError } from '../../src/flex/domain/uftp/errors.js';
import { VENDORED_SCHEMA_DIRECTORY } from '../../src/flex/uftp-schemas.js';
import { DSO, example, flexRequest, publishedKeyPairs, schemas, uftpPresent } from './support.js';

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

describe('gridshare dso-sim', () => {
  it('prints its domain, public key and endpoint for the address book, and publishes a signed FlexRequest for tomorrow to the AGR', async () => {
    // The AGR's endpoint: a loopback server keeping what it is sent.
    const posted: string[] = [];
    const agr = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        posted.push(Buffer.concat(chunks).toString('utf8'));
        response.end();
      });
    });
    await new Promise<void>((resolve) => agr.listen(0, '127.0.0.1', resolve));
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const port = (free.address() as AddressInfo).port;
    await new Promise<void>((resolve) => free.close(() => resolve()));

    const agrKey = Buffer.from(generateSigningKey().publicKey).toString('base64');
    const bin = fileURLToPath(new URL('../../bin/gridshare.js', import.meta.url));
    const child = spawn(process.execPath, [bin, 'dso-sim', '--agr-url', `http://127.0.0.1:${(agr.address() as AddressInfo).port}/shapeshifter/api/v3/message`,
      '--agr-domain', 'community.example.org', '--agr-public-key', agrKey, '--domain', 'dso-cli.example.org', '--port', String(port), '--request-isps', '70-72'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let output = '';
      child.stdout.setEncoding('utf8');
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (text: string) => {
          output += text;
          if (/sent FlexRequest/.test(output)) resolve();
        });
        child.once('exit', (code) => reject(new Error(`dso-sim exited with ${code}: ${output}`)));
      });
      expect(output).toMatch(/domain\s+dso-cli\.example\.org/);
      expect(output).toContain(`endpoint          http://127.0.0.1:${port}/shapeshifter/api/v3/message`);
      const publicKey = /public key\s+(\S+)/.exec(output)![1]!;
      expect(posted).toHaveLength(1);
      const { message, signedBy } = openSignedMessage(posted[0]!, [{ domain: 'dso-cli.example.org', role: 'DSO', publicKeys: [parsePublicKey(publicKey)] }], schemas());
      expect(signedBy.role).toBe('DSO');
      expect(message).toMatchObject({ type: 'FlexRequest', recipientDomain: 'community.example.org', congestionPoint: 'ea1.2026-01.localhost.dso-sim:cp-1' });
      const requested = message.type === 'FlexRequest' ? message.isps.filter((isp) => isp.disposition === 'Requested') : [];
      expect(requested.map((isp) => [isp.start, isp.minPower, isp.maxPower])).toEqual([[70, -20_000, -5_000], [71, -20_000, -5_000], [72, -20_000, -5_000]]);
    } finally {
      child.kill('SIGTERM');
      await new Promise<void>((resolve) => agr.close(() => resolve()));
    }
  }, 60_000);
});
