import { Option, type Command } from 'commander';

/** Options every command that talks to a running Gridshare shares. */
export function withServerOptions(command: Command): Command {
  return command
    .addOption(new Option('--url <url>', 'the Gridshare server').default('http://localhost:8080').env('GRIDSHARE_URL'))
    .addOption(new Option('--token <token>', 'an API token of a manager (create one under /api/v1/me/tokens)').env('GRIDSHARE_TOKEN'));
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(`${message} (${status} ${code})`);
  }
}

export interface ServerOptions {
  url: string;
  token?: string;
}

/** A minimal client of the documented HTTP API, for the command line. */
export function apiClient(options: ServerOptions) {
  if (!options.token) throw new Error('an API token is needed: --token or GRIDSHARE_TOKEN');
  const base = options.url.replace(/\/$/, '');
  const headers = { authorization: `Bearer ${options.token}` };
  const fail = async (response: Response) => {
    const body = (await response.json().catch(() => ({}))) as { error?: string; message?: string };
    throw new ApiError(response.status, body.error ?? 'error', body.message ?? response.statusText);
  };
  return {
    async request(method: string, path: string, body?: unknown, accept = 'application/json'): Promise<Response> {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { ...headers, accept, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!response.ok) await fail(response);
      return response;
    },
    async json<T>(method: string, path: string, body?: unknown): Promise<T> {
      return (await (await this.request(method, path, body)).json()) as T;
    },
  };
}

/** A one-line progress bar on stderr (left alone when stderr is not a terminal, e.g. in CI logs). */
export function progressBar(label: string) {
  let last = '';
  return {
    update(done: number, total: number, phase: string) {
      const ratio = total === 0 ? 1 : done / total;
      const width = 30;
      const filled = Math.round(ratio * width);
      const text = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}% ${phase} ${done}/${total}`;
      if (text === last) return;
      last = text;
      if (process.stderr.isTTY) process.stderr.write(`\r${text}`);
      else process.stderr.write(`${text}\n`);
    },
    done() {
      if (process.stderr.isTTY && last) process.stderr.write('\n');
    },
  };
}

/** The JSON lines of an `application/x-ndjson` answer (progress, then a result or an error), as they arrive. */
export async function* ndjsonLines<T>(response: Response): AsyncGenerator<T> {
  let buffer = '';
  const decoder = new TextDecoder();
  // Node's web streams are async iterable; the DOM typings (the browser tests compile this too) do not say so.
  for await (const chunk of response.body! as unknown as AsyncIterable<Uint8Array>) {
    // A character may be split across chunks: the decoder keeps its first bytes for the next one.
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      yield JSON.parse(line) as T;
    }
  }
}
