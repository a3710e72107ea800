/**
 * One route of the API as data: its method, its path template (`:name` for a path parameter) and
 * the Fastify schema the server validates with and documents in /openapi.json. The server
 * registers it, the web app calls it, and both read their types from the same schemas.
 */
import type { Static, TObject, TOptional, TSchema } from 'typebox';
import type { TDefaulted } from './common.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteSchema {
  tags: string[];
  summary: string;
  description?: string;
  /** [] for routes open to everyone; the default is a session or an API token. */
  security?: Record<string, string[]>[];
  params?: TSchema;
  querystring?: TSchema;
  body?: TSchema;
  consumes?: string[];
  produces?: string[];
  response: { [status: number]: TSchema };
}

export interface Route<S extends RouteSchema = RouteSchema> {
  readonly method: Method;
  readonly path: string;
  readonly schema: S;
}

export function route<const M extends Method, const P extends string, S extends RouteSchema>(method: M, path: P, schema: S) {
  return { method, path, schema } as const satisfies Route<S>;
}

/** Fields a caller may leave out: optional ones and those the server gives a default. */
type OmittableKeys<P> = { [K in keyof P]: P[K] extends TOptional<TSchema> | TDefaulted<TSchema> ? K : never }[keyof P];
/** What a caller sends for a schema: its static type, with defaulted fields optional. */
export type Input<T extends TSchema> = T extends TObject<infer P>
  ? { [K in Exclude<keyof P, OmittableKeys<P>>]: Static<P[K]> } & { [K in OmittableKeys<P>]?: Static<P[K]> }
  : Static<T>;

type Part<S extends RouteSchema, K extends string, Name extends string> = S extends { [k in K]: infer T extends TSchema }
  ? object extends Input<T> ? { [N in Name]?: Input<T> } : { [N in Name]: Input<T> }
  : { [N in Name]?: never };

/**
 * What a call of the route takes: path `params`, `query` and a JSON `body`, each exactly where the
 * route declares one; or the body as `raw` bytes for a route that takes a file.
 */
export type RequestInput<R extends Route> = R extends Route
  // Per route, then joined: for a union of routes (a generic name's constraint) the parts of one route
  // stay together, where separate unions of all params, queries and bodies would multiply past what
  // TypeScript can represent (TS2590) once there are ~240 routes.
  ? Part<R['schema'], 'params', 'params'> & Part<R['schema'], 'querystring', 'query'> &
    (R['schema'] extends { body: TSchema } ? Part<R['schema'], 'body', 'body'> | { raw: RawBody } : { body?: never })
  : never;

export interface RawBody {
  contentType: string;
  data: Blob | string;
}

type Responses<R extends Route> = R['schema']['response'];
/** What the route answers when it succeeds (nothing for 204). */
export type Result<R extends Route> = Extract<keyof Responses<R>, 200 | 201> extends never
  ? void
  : Static<Responses<R>[Extract<keyof Responses<R>, 200 | 201>]>;

/** The path of a route with its parameters filled in, each encoded as a path segment. */
export function fillPath(template: string, params: Readonly<Record<string, string>> | undefined): string {
  return template.replace(/:([A-Za-z]+)/g, (_match, name: string) => {
    const value = params?.[name];
    if (value === undefined) throw new Error(`${template}: no value for :${name}`);
    return encodeURIComponent(value);
  });
}

/** A query string (with its "?") from a route's query values; arrays repeat their key, undefined is left out. */
export function queryString(query: Readonly<Record<string, unknown>> | undefined): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) if (item !== undefined) search.append(key, String(item));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
