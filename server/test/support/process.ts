import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const GRIDSHARE_BIN = fileURLToPath(new URL('../../bin/gridshare.js', import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface RunningGridshare {
  readonly child: ChildProcessWithoutNullStreams;
  readonly baseUrl: string;
  output(): string;
  /** Resolves when the process has exited, with its code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Runs the real `gridshare` command as a separate process, as a user would. */
export function runGridshare(args: string[], env: Record<string, string> = {}): RunningGridshare {
  const child = spawn(process.execPath, [GRIDSHARE_BIN, ...args], {
    env: { ...process.env, DATABASE_URL: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += String(chunk)));
  child.stderr.on('data', (chunk) => (output += String(chunk)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const portIndex = args.indexOf('--port');
  return {
    child,
    baseUrl: `http://127.0.0.1:${portIndex >= 0 ? args[portIndex + 1] : '8080'}`,
    output: () => output,
    exited,
  };
}

/** Generous: opening the embedded database (WASM) takes 5 s on an idle machine, over 30 s on a loaded 2-core one. */
export async function waitForHealth(running: RunningGridshare, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (running.child.exitCode !== null) throw new Error(`gridshare exited early:\n${running.output()}`);
    try {
      const response = await fetch(`${running.baseUrl}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gridshare did not become healthy:\n${running.output()}`);
}

/** A JSON call to a running Gridshare, with a bearer token or the session cookie (sent with its Origin, as a browser would). */
export async function callJson(base: string, method: string, path: string, options: { token?: string; cookie?: string; body?: unknown } = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...(options.cookie ? { cookie: options.cookie, origin: base } : {}),
      ...(options.body ? { 'content-type': 'application/json' } : {}),
    },
    body: options.body ? JSON.stringify(options.body) : null,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, cookie: response.headers.get('set-cookie')?.split(';')[0] };
}

/**
 * The first start's one-time admin password, once the banner has printed it: the server answers
 * health checks a moment before the banner's last lines are written.
 */
export async function oneTimePassword(running: RunningGridshare, timeoutMs = 30_000): Promise<string> {
  for (const deadline = Date.now() + timeoutMs; ;) {
    const found = /one-time password: (\S+)/.exec(running.output());
    if (found) return found[1]!;
    if (Date.now() > deadline) throw new Error(`no one-time password printed within ${timeoutMs} ms:\n${running.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The first start's admin with the one-time password replaced, and an API token of theirs. */
export async function adminToken(running: RunningGridshare, newPassword: string): Promise<string> {
  const otp = await oneTimePassword(running);
  const email = 'admin@gridshare.local';
  const first = await callJson(running.baseUrl, 'POST', '/api/v1/auth/login', { body: { email, password: otp } });
  await callJson(running.baseUrl, 'POST', '/api/v1/me/password', { cookie: first.cookie!, body: { currentPassword: otp, newPassword } });
  // A new password ends the other sessions: log in again with it.
  const login = await callJson(running.baseUrl, 'POST', '/api/v1/auth/login', { body: { email, password: newPassword } });
  return (await callJson(running.baseUrl, 'POST', '/api/v1/me/tokens', { cookie: login.cookie!, body: { name: 'tests' } })).body.token as string;
}
