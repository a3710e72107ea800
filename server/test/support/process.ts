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
