import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  cosign, formatVerifierKey, fromBase64, openCheckpoint, parseNote, SIGNATURE_TYPE, toBase64, verifierFromKey, verifyConsistency,
  type Hash,
} from '../../../src/ledger/domain/index.js';
import { ed25519PublicKey } from '../../../src/ledger/domain/crypto.js';

export interface WitnessRequest {
  readonly old: number;
  readonly proof: number;
  readonly size: number;
  readonly status: number;
}

/**
 * A witness speaking c2sp.org/tlog-witness over real HTTP, for one log: it checks the log's
 * signature, the old size against what it cosigned last (409 with its size), the consistency
 * proof (422), and answers with a timestamped cosignature. `signWith` makes it sign with another
 * key than the one it is known by (a witness the log must not believe).
 */
export class TestWitness {
  readonly requests: WitnessRequest[] = [];
  readonly verifierKey: string;
  private readonly seed: Uint8Array;
  private state = { size: 0, root: '' };

  private constructor(private readonly server: Server, readonly name: string, private readonly logKey: string, signWith?: Uint8Array) {
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const known = new Uint8Array(randomBytes(32));
    this.verifierKey = formatVerifierKey(name, SIGNATURE_TYPE.cosignatureV1, ed25519PublicKey(known));
    this.seed = signWith ?? known;
    server.on('request', (request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => {
        body += chunk;
      });
      request.on('end', () => {
        const answer = request.method === 'POST' && request.url === '/add-checkpoint' ? this.addCheckpoint(body) : { status: 404, type: 'text/plain', text: 'not found\n' };
        response.writeHead(answer.status, { 'content-type': answer.type }).end(answer.text);
      });
    });
  }

  static async start(name: string, logVerifierKey: string, options: { signWith?: Uint8Array } = {}): Promise<TestWitness> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new TestWitness(server, name, logVerifierKey, options.signWith);
  }

  readonly url: string;

  /** Loses what it cosigned (a witness restored from an old backup). */
  forget(): void {
    this.state = { size: 0, root: '' };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private addCheckpoint(body: string): { status: number; type: string; text: string } {
    const text = (status: number, message: string) => ({ status, type: 'text/plain', text: `${message}\n` });
    const blank = body.indexOf('\n\n');
    const head = body.slice(0, blank).split('\n');
    const note = body.slice(blank + 2);
    const old = /^old (0|[1-9]\d*)$/.exec(head[0] ?? '');
    const proof = head.slice(1).map((line) => fromBase64(line)).filter((h): h is Hash => h !== undefined);
    if (blank < 0 || !old || proof.length !== head.length - 1) return text(400, 'malformed request');
    let checkpoint;
    try {
      checkpoint = openCheckpoint(note, verifierFromKey(this.logKey)).checkpoint;
    } catch {
      return text(403, 'no signature by the log\'s key');
    }
    const oldSize = Number(old[1]);
    const record = (status: number) => this.requests.push({ old: oldSize, proof: proof.length, size: checkpoint.size, status });
    if (oldSize > checkpoint.size) return (record(400), text(400, 'old size above the checkpoint\'s'));
    if (oldSize !== this.state.size) return (record(409), { status: 409, type: 'text/x.tlog.size', text: `${this.state.size}\n` });
    if (oldSize > 0) {
      try {
        verifyConsistency(oldSize, checkpoint.size, proof, fromBase64(this.state.root)!, checkpoint.rootHash);
      } catch {
        return (record(422), text(422, 'inconsistent'));
      }
    }
    this.state = { size: checkpoint.size, root: toBase64(checkpoint.rootHash) };
    record(200);
    return { status: 200, type: 'text/plain', text: cosign(parseNote(note).text, { name: this.name, seed: this.seed }, Math.floor(Date.now() / 1000)) };
  }
}
