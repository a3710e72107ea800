/**
 * The one way the app talks to the server: same-origin fetch with the session cookie, to routes
 * named in the API contract (@gridshare/contract), so every path, input and answer has the
 * server's own types. Every failure becomes an ApiError carrying the API's own message, which
 * the pages show as is.
 */
import { api, fillPath, queryString, type Api, type RawBody, type RequestInput, type Result, type RouteName } from '@gridshare/contract';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** The API's finer cause where a route documents one (a reset link: `expired` or `invalid`). */
    readonly reason?: string,
  ) {
    super(message);
  }

  get notFound(): boolean {
    return this.status === 404;
  }
}

export interface RequestOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** What a call of route N takes: its path `params`, `query` and `body` (or a `raw` file). */
export type Call<N extends RouteName> = RequestInput<Api[N]>;
/** What route N answers. */
export type Answer<N extends RouteName> = Result<Api[N]>;
/** A call's input, left out where the route takes none. */
type InputArgs<N extends RouteName> = object extends Call<N> ? [input?: Call<N>, options?: RequestOptions] : [input: Call<N>, options?: RequestOptions];
/**
 * Any route's input, as the code that sends it sees it (the types above checked it already). A
 * generic route's input is cast to it through `unknown`: compared directly, tsc expands every
 * route's input type into one union (slow, and past a size an error, TS2590).
 */
interface PlainInput {
  params?: Record<string, string>;
  query?: Record<string, unknown>;
  body?: unknown;
  raw?: RawBody;
}

/** Called when the server says the session is gone, so the app can show the login. */
let onUnauthorized: () => void = () => undefined;
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

/**
 * The URL of a route with its path parameters and query filled in: what calls fetch, and what a
 * download link or an event stream opens.
 */
export function apiUrl<N extends RouteName>(name: N, input: Omit<Call<N>, 'body' | 'raw'>): string {
  return urlOf(name, input as unknown as PlainInput);
}

/**
 * apiUrl for code that holds a whole call's input (its body is not part of the URL), or null for
 * no call. Taking the null here spares the caller a narrowing of a generic route's input, which
 * makes the compiler expand every route's input at once (TS2590).
 */
export function callUrl<N extends RouteName>(name: N, input: Call<N> | null): string | null {
  const plain = input as unknown as PlainInput | null;
  return plain === null ? null : urlOf(name, plain);
}

function urlOf(name: RouteName, { params, query }: PlainInput): string {
  return fillPath(api[name].path, params) + queryString(query);
}

/** Calls route `name` and returns its raw response (for a streamed answer); throws ApiError when it failed. */
export function send<N extends RouteName>(name: N, ...[input, options]: InputArgs<N>): Promise<Response> {
  return exchange(name, input as unknown as PlainInput | undefined, options ?? {});
}

/** Calls route `name` and returns what it answers (the contract's type for it). */
export function call<N extends RouteName>(name: N, ...[input, options]: InputArgs<N>): Promise<Answer<N>> {
  return request<N>(name, input, options ?? {});
}

/** call() with the input as one argument (null or undefined: none), for code that holds it in a variable. */
export async function request<N extends RouteName>(name: N, input: Call<N> | null | undefined, options: RequestOptions = {}): Promise<Answer<N>> {
  const response = await exchange(name, (input as unknown as PlainInput | null | undefined) ?? undefined, options);
  if (response.status === 204) return undefined as Answer<N>;
  return (await response.json()) as Answer<N>;
}

async function exchange(name: RouteName, input: PlainInput = {}, options: RequestOptions): Promise<Response> {
  const { method } = api[name];
  const { body: json, raw } = input;
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  let body: Blob | string | undefined;
  if (raw !== undefined) {
    headers['content-type'] = raw.contentType;
    body = raw.data;
  } else if (json !== undefined || method === 'POST') {
    // A POST without options still sends {} (the server reads a missing body the same way).
    headers['content-type'] = 'application/json';
    body = JSON.stringify(json ?? {});
  }
  let response: Response;
  try {
    response = await fetch(urlOf(name, input), { method, headers, body, credentials: 'same-origin', signal: options.signal ?? null });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.');
  }
  if (!response.ok) throw await toError(response);
  return response;
}

async function toError(response: Response): Promise<ApiError> {
  if (response.status === 401 && !response.url.endsWith('/auth/login')) onUnauthorized();
  try {
    const body = (await response.json()) as { error?: unknown; message?: unknown; field?: unknown; reason?: unknown };
    if (typeof body.message === 'string') {
      return new ApiError(response.status, String(body.error ?? 'error'), body.message, typeof body.field === 'string' ? body.field : undefined,
        typeof body.reason === 'string' ? body.reason : undefined);
    }
  } catch {
    // Not JSON: fall through to a generic message.
  }
  return new ApiError(response.status, 'http', `The server answered ${response.status} ${response.statusText}`.trim());
}

/** Human text for anything a page caught. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
