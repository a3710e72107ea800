import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { message, pickLanguage, type Language } from './domain/catalog.js';
import { renderLogin, renderStatusPage, type PageView } from './domain/page.js';
import type { Heartbeat } from './domain/health.js';
import { allowedHost, isLocalAddress, isLoopback } from './domain/lan.js';

export interface LocalWebOptions {
  readonly host: string;
  readonly port: number;
  readonly pin: string;
  readonly deviceId: string;
  readonly language: () => Language;
  readonly status: () => Heartbeat;
  /** The page without csrf, language and notice. */
  readonly view: () => Promise<Omit<PageView, 'csrf' | 'language' | 'notice' | 'status' | 'deviceId'>>;
  /** Applies the settings form; returns an error text when refused. */
  readonly applySettings: (form: URLSearchParams) => string | undefined;
}

const SESSION_MS = 30 * 60_000;
const MAX_FAILURES = 5;
const LOCK_MS = 5 * 60_000;
const MAX_BODY = 8 * 1024;

/**
 * The reader's page on the home network. Threat model (README): anyone on the LAN can reach it,
 * and any web page a member opens can make their browser send requests to it. So: only clients
 * from private, link-local or loopback addresses; only Host names that are an IP, localhost or
 * a .local name (no DNS rebinding); everything but the PIN form behind a PIN session
 * (HttpOnly, SameSite=Strict cookie, 30 minutes); forms carry a per-session token and must come
 * from the page's own origin; five wrong PINs lock the form for five minutes; keys are written,
 * never shown back. `/status.json` answers loopback only (for `gridshare agent status`).
 */
export class LocalWeb {
  private server: Server | undefined;
  private readonly sessions = new Map<string, { csrf: string; expiresAtMs: number }>();
  private failures = 0;
  private lockedUntilMs = 0;

  constructor(private readonly options: LocalWebOptions) {}

  async start(): Promise<number> {
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: Error) => {
        if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', error.message);
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    const address = server.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const remote = request.socket.remoteAddress ?? '';
    if (!isLocalAddress(remote)) return send(response, 403, 'text/plain; charset=utf-8', 'only from the local network');
    if (!allowedHost(request.headers.host)) return send(response, 421, 'text/plain; charset=utf-8', 'unexpected Host');
    const url = new URL(request.url ?? '/', 'http://agent.local');
    if (request.method === 'GET' && url.pathname === '/status.json') {
      if (!isLoopback(remote)) return send(response, 403, 'text/plain; charset=utf-8', 'loopback only');
      return send(response, 200, 'application/json', JSON.stringify(this.options.status()));
    }
    const language = pickLanguage(request.headers['accept-language'], this.options.language());
    const session = this.session(request);
    if (request.method === 'GET' && url.pathname === '/') {
      if (!session) return this.loginPage(response, language);
      return this.statusPage(response, language, session.csrf);
    }
    if (request.method !== 'POST') return send(response, 404, 'text/plain; charset=utf-8', 'not found');
    if (!sameOrigin(request)) return send(response, 403, 'text/plain; charset=utf-8', 'cross-origin form');
    const form = await readForm(request);
    if (form === undefined) return send(response, 413, 'text/plain; charset=utf-8', 'form too large');
    if (url.pathname === '/login') return this.login(response, language, form);
    if (!session || form.get('csrf') === null || !equal(form.get('csrf')!, session.csrf)) return redirect(response, '/');
    if (url.pathname === '/logout') {
      this.sessions.delete(cookie(request) ?? '');
      return redirect(response, '/', 'gs_agent=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict');
    }
    if (url.pathname === '/settings') {
      const refusal = this.options.applySettings(form);
      const after = this.options.language();
      const notice = refusal === undefined
        ? { kind: 'ok' as const, text: message(after, 'settings.saved') }
        : { kind: 'error' as const, text: message(after, 'settings.invalid', { reason: refusal }) };
      return this.statusPage(response, refusal === undefined ? after : language, session.csrf, notice, refusal === undefined ? 200 : 400);
    }
    return send(response, 404, 'text/plain; charset=utf-8', 'not found');
  }

  private loginPage(response: ServerResponse, language: Language, notice?: PageView['notice'], status = 200): void {
    send(response, status, 'text/html; charset=utf-8', renderLogin(language, this.options.deviceId, '', notice));
  }

  private async statusPage(response: ServerResponse, language: Language, csrf: string, notice?: PageView['notice'], status = 200): Promise<void> {
    const view = await this.options.view();
    send(response, status, 'text/html; charset=utf-8', renderStatusPage({ ...view, status: this.options.status(), deviceId: this.options.deviceId, language, csrf, notice }));
  }

  private login(response: ServerResponse, language: Language, form: URLSearchParams): void {
    const now = Date.now();
    if (now < this.lockedUntilMs) {
      return this.loginPage(response, language, { kind: 'error', text: message(language, 'login.locked', { minutes: Math.ceil((this.lockedUntilMs - now) / 60_000) }) }, 429);
    }
    if (!equal(form.get('pin') ?? '', this.options.pin)) {
      this.failures += 1;
      if (this.failures >= MAX_FAILURES) {
        this.failures = 0;
        this.lockedUntilMs = now + LOCK_MS;
      }
      return this.loginPage(response, language, { kind: 'error', text: message(language, 'login.wrong') }, 401);
    }
    this.failures = 0;
    const id = randomBytes(32).toString('base64url');
    for (const [key, value] of this.sessions) if (value.expiresAtMs < now) this.sessions.delete(key);
    this.sessions.set(id, { csrf: randomBytes(24).toString('base64url'), expiresAtMs: now + SESSION_MS });
    redirect(response, '/', `gs_agent=${id}; Max-Age=${SESSION_MS / 1000}; Path=/; HttpOnly; SameSite=Strict`);
  }

  private session(request: IncomingMessage): { csrf: string } | undefined {
    const id = cookie(request);
    const session = id ? this.sessions.get(id) : undefined;
    if (!session || session.expiresAtMs < Date.now()) return undefined;
    return session;
  }
}

function cookie(request: IncomingMessage): string | undefined {
  return /(?:^|;\s*)gs_agent=([A-Za-z0-9_-]+)/.exec(request.headers.cookie ?? '')?.[1];
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, ...SECURITY_HEADERS });
  response.end(body);
}

function redirect(response: ServerResponse, location: string, setCookie?: string): void {
  response.writeHead(303, { location, ...SECURITY_HEADERS, ...(setCookie ? { 'set-cookie': setCookie } : {}) });
  response.end();
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** A POST from another site carries its own Origin; the page's own forms carry this Host's. */
function sameOrigin(request: IncomingMessage): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
