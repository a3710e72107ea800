import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A Shelly Gen2 smart plug's local RPC on a loopback port (`POST /rpc`, JSON-RPC 2.0 as the
 * Plus Plug S answers it): `Switch.Set` (with `toggle_after`) and `Switch.GetStatus` for switch
 * 0; other methods or ids get the plug's error objects. `stuck` makes it take a `Switch.Set`
 * and keep its state (an overpower lock); every call is recorded. With a `password` it is a plug
 * whose owner set one: every request needs HTTP digest authentication (RFC 7616, SHA-256, qop
 * auth, user admin, realm its id), checked here as the plug checks it — a nonce it issued, a
 * nonce count that only rises, the response hash — or it answers 401 with a fresh challenge and
 * does nothing; `forgetNonces()` makes it refuse the nonces it gave out (as after its restart).
 */
export interface ShellyPlug {
  readonly port: number;
  readonly calls: { method: string; params: Record<string, unknown> }[];
  readonly state: { output: boolean; toggleAfter: number | undefined; energyWh: number; stuck: boolean };
  /** Requests answered 401 (no or a wrong authorization). */
  unauthorized: number;
  forgetNonces(): void;
  close(): Promise<void>;
}

const DEVICE_ID = 'shellyplusplugs-a0b1c2d3e4f5';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The fields of a `Digest …` authorization header. */
function digestFields(header: string | undefined): Map<string, string> | undefined {
  if (header === undefined || !header.startsWith('Digest ')) return undefined;
  return new Map([...header.slice(7).matchAll(/(\w+)=(?:"([^"]*)"|([^\s,]+))/g)].map((m) => [m[1]!, m[2] ?? m[3]!]));
}

export async function startShellyPlug(options: { password?: string } = {}): Promise<ShellyPlug> {
  const state: ShellyPlug['state'] = { output: false, toggleAfter: undefined, energyWh: 12_345.6, stuck: false };
  const calls: ShellyPlug['calls'] = [];
  const sockets = new Set<Socket>();
  /** Nonces given out, with the highest nonce count seen for each. */
  let nonces = new Map<string, number>();
  const authorized = (request: IncomingMessage): boolean => {
    if (options.password === undefined) return true;
    const fields = digestFields(request.headers.authorization);
    if (!fields || fields.get('username') !== 'admin' || fields.get('realm') !== DEVICE_ID || fields.get('uri') !== request.url || fields.get('qop') !== 'auth') return false;
    const nonce = fields.get('nonce') ?? '';
    const nc = Number.parseInt(fields.get('nc') ?? '', 16);
    const seen = nonces.get(nonce);
    if (seen === undefined || !(nc > seen)) return false;
    const ha1 = sha256(`admin:${DEVICE_ID}:${options.password}`);
    const ha2 = sha256(`${request.method ?? ''}:${request.url ?? ''}`);
    if (fields.get('response') !== sha256(`${ha1}:${nonce}:${fields.get('nc')}:${fields.get('cnonce') ?? ''}:auth:${ha2}`)) return false;
    nonces.set(nonce, nc);
    return true;
  };
  const answer = (id: unknown, result: Record<string, unknown> | undefined, error?: { code: number; message: string }) =>
    JSON.stringify({ id, src: DEVICE_ID, ...(error ? { error } : { result }) });
  const server: Server = createServer((request, response) => {
    if (!authorized(request)) {
      plug.unauthorized += 1;
      const nonce = randomBytes(8).toString('hex');
      nonces.set(nonce, 0);
      request.resume();
      response.writeHead(401, { 'www-authenticate': `Digest qop="auth", realm="${DEVICE_ID}", nonce="${nonce}", algorithm=SHA-256` }).end();
      return;
    }
    let body = '';
    request.on('data', (chunk: Buffer) => { body += chunk.toString('utf8'); });
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/rpc') {
        response.writeHead(404).end();
        return;
      }
      let call: { id?: unknown; method?: string; params?: Record<string, unknown> };
      try {
        call = JSON.parse(body) as typeof call;
      } catch {
        response.writeHead(400, { 'content-type': 'application/json' }).end(answer(null, undefined, { code: -32700, message: 'Parse error' }));
        return;
      }
      const params = call.params ?? {};
      calls.push({ method: call.method ?? '', params });
      const reply = (status: number, text: string) => response.writeHead(status, { 'content-type': 'application/json' }).end(text);
      if (params.id !== 0) return reply(400, answer(call.id, undefined, { code: -105, message: `Argument 'id', value ${String(params.id)} not found!` }));
      if (call.method === 'Switch.Set') {
        if (typeof params.on !== 'boolean') return reply(400, answer(call.id, undefined, { code: -103, message: 'Invalid argument \'on\'!' }));
        const wasOn = state.output;
        if (!state.stuck) {
          state.output = params.on;
          state.toggleAfter = typeof params.toggle_after === 'number' ? params.toggle_after : undefined;
        }
        return reply(200, answer(call.id, { was_on: wasOn }));
      }
      if (call.method === 'Switch.GetStatus') {
        return reply(200, answer(call.id, {
          id: 0, source: 'HTTP_in', output: state.output, apower: state.output ? 1_987.4 : 0, voltage: 231.2, current: state.output ? 8.6 : 0,
          aenergy: { total: state.energyWh, by_minute: [0, 0, 0], minute_ts: 1_796_300_000 }, temperature: { tC: 31.2, tF: 88.2 },
        }));
      }
      return reply(404, answer(call.id, undefined, { code: 404, message: `No handler for ${String(call.method)}` }));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const plug: ShellyPlug = {
    port: 0,
    calls,
    state,
    unauthorized: 0,
    forgetNonces() {
      nonces = new Map();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(plug, { port: (server.address() as AddressInfo).port });
}
