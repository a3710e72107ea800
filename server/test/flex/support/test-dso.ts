import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openSignedMessage, seal, signingKeyFromSecret, parsePublicKey, writeSignedMessage, type IncomingMessage, type SigningKey } from '../../../src/flex/index.js';
import { schemas } from '../support.js';

/**
 * A grid operator's UFTP endpoint for tests: a real HTTP server on a free loopback port that
 * opens what Gridshare sends it with the flex domain functions (signature against the
 * community's public key, schema, decoding) and answers each POST with the next status queued
 * (200 once the queue is empty).
 */
export class TestDso {
  /** Every signed document received, as posted. */
  readonly received: string[] = [];
  /** The statuses of the next answers. */
  readonly statuses: number[] = [];
  readonly key: SigningKey;

  private constructor(private readonly server: Server, readonly url: string, readonly domain: string, secretKey: string) {
    this.key = signingKeyFromSecret(secretKey);
  }

  static async start(domain: string, secretKey: string): Promise<TestDso> {
    let dso: TestDso | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        dso!.received.push(Buffer.concat(chunks).toString('utf8'));
        response.statusCode = dso!.statuses.shift() ?? 200;
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    dso = new TestDso(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/shapeshifter/api/v3/message`, domain, secretKey);
    return dso;
  }

  /** The SignedMessage of a payload, signed with this DSO's key (or another), as DSO `senderDomain`. */
  sign(payloadXml: string, options: { key?: SigningKey; senderDomain?: string } = {}): string {
    const body = seal(new TextEncoder().encode(payloadXml), options.key ?? this.key);
    return writeSignedMessage({ senderDomain: options.senderDomain ?? this.domain, senderRole: 'DSO', body });
  }

  /** Opens every message received since `from` as the community (domain, public key) sent it. */
  opened(agrDomain: string, agrPublicKey: string, from = 0): IncomingMessage[] {
    const book = [{ domain: agrDomain, role: 'AGR' as const, publicKeys: [parsePublicKey(agrPublicKey)] }];
    return this.received.slice(from).map((xml) => openSignedMessage(xml, book, schemas()));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A loopback HTTP server that only counts requests: the target of SSRF/XXE attempts. */
export async function startCanary(): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = createServer((_request, response) => {
    hits += 1;
    response.end('<!ENTITY leaked "yes">');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
