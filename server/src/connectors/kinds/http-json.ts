import { Type, type Static } from 'typebox';
import { formatUtcInstant } from '../../kernel/time.js';
import { jsonPathAll, jsonPathFirst, jsonPathProblem } from '../domain/json.js';
import type { Problem, TargetReading } from '../domain/readings.js';
import { recordMapper, recordMappingProblems, type RecordMapping } from '../domain/records.js';
import { timeZoneProblem, timestampFormatProblem } from '../domain/timestamps.js';
import { ConnectorError, networkFailure, type ConnectorKind, type RunContext } from '../kind.js';
import { registerKind } from '../registry.js';
import { Secret, TimeZone, TimestampFormatSchema, ValueMappingSchema } from '../schema.js';

/**
 * `http-json`: a vendor cloud or a gateway's HTTP API. Authentication (API key, bearer token,
 * basic, OAuth2 client credentials), then a chain of requests: earlier steps extract values
 * (a site id) for later ones as `{{name}}`; the last step's responses, page after page, are
 * mapped to readings with JSONPath. `{{since}}` is the newest reading of the last run (the
 * watermark), so each run asks only for what is new. Anything that is not JSON (an HTML login
 * page, a proxy's error page) or an error status is a clear error, without the credentials.
 *
 * Node's own fetch (undici) is the client: it takes an AbortSignal, so the run's timeout ends
 * the request.
 */
const Template = (description: string) => Type.String({ minLength: 1, maxLength: 4096, description });

const Auth = Type.Union([
  Type.Object({ type: Type.Literal('none') }, { additionalProperties: false }),
  Type.Object({
    type: Type.Literal('api-key'),
    in: Type.Optional(Type.Enum(['header', 'query'], { default: 'header' })),
    name: Type.String({ minLength: 1, maxLength: 128, description: 'Header or query parameter name, e.g. X-API-Key' }),
    value: Secret('API key'),
  }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('bearer'), token: Secret('Bearer token') }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('basic'), username: Type.String({ minLength: 1, maxLength: 256 }), password: Secret('Password') }, { additionalProperties: false }),
  Type.Object({
    type: Type.Literal('oauth2-client-credentials'),
    tokenUrl: Type.String({ format: 'uri', maxLength: 2048 }),
    clientId: Type.String({ minLength: 1, maxLength: 512 }),
    clientSecret: Secret('OAuth2 client secret'),
    scope: Type.Optional(Type.String({ maxLength: 1024 })),
    audience: Type.Optional(Type.String({ maxLength: 1024 })),
    clientAuth: Type.Optional(Type.Enum(['basic', 'body'], { default: 'basic', description: 'Send the client id and secret as HTTP basic auth or in the form body' })),
  }, { additionalProperties: false }),
], { default: { type: 'none' } });

const Paging = Type.Union([
  Type.Object({ type: Type.Literal('none') }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('next-link'), path: Type.String({ minLength: 1, maxLength: 500, description: 'JSONPath to the next page\'s URL (absolute or relative)' }) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('cursor'), path: Type.String({ minLength: 1, maxLength: 500 }), param: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('page'), param: Type.String({ minLength: 1, maxLength: 128 }), start: Type.Optional(Type.Integer({ minimum: 0, default: 1 })) }, { additionalProperties: false }),
], { default: { type: 'none' } });

const Step = Type.Object({
  method: Type.Enum(['GET', 'POST'], { default: 'GET' }),
  url: Template('URL; {{name}} inserts an extracted value, {{since}} the watermark'),
  query: Type.Record(Type.String(), Type.String({ maxLength: 2048 }), { default: {} }),
  headers: Type.Record(Type.String(), Type.String({ maxLength: 4096 }), { default: {} }),
  body: Type.Optional(Type.Unknown({ description: 'JSON body of a POST; strings may hold {{name}}' })),
  extract: Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]*$' }), Type.String({ maxLength: 500 }), { default: {}, description: 'Values for later steps: name → JSONPath' }),
  paging: Paging,
}, { additionalProperties: false });

const Config = Type.Object({
  auth: Auth,
  steps: Type.Array(Step, { minItems: 1, maxItems: 5, description: 'Requests in order; the last one\'s responses are mapped' }),
  mapping: Type.Object({
    items: Type.String({ minLength: 1, maxLength: 500, default: '$[*]', description: 'JSONPath to the records in a response' }),
    timestamp: Type.String({ minLength: 1, maxLength: 500, description: 'JSONPath to a record\'s timestamp' }),
    timestampFormat: TimestampFormatSchema,
    timeZone: TimeZone,
    values: Type.Array(ValueMappingSchema('JSONPath into the record'), { minItems: 1, maxItems: 200 }),
  }, { additionalProperties: false }),
  since: Type.Object({
    format: Type.Enum(['iso', 'unix-s', 'unix-ms'], { default: 'iso', description: 'How {{since}} is written' }),
    initial: Type.Optional(Type.String({ format: 'date-time', description: 'Where the first run starts' })),
    overlapS: Type.Integer({ minimum: 0, maximum: 86_400 * 7, default: 0, description: 'Ask again for this much before the watermark (late corrections)' }),
  }, { additionalProperties: false, default: {} }),
  maxPages: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
  maxResponseBytes: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, default: 16 * 1024 * 1024 }),
}, { additionalProperties: false });
type Config = Static<typeof Config>;
type StepConfig = Static<typeof Step>;

const State = Type.Object({ since: Type.Optional(Type.String({ description: 'Newest reading read (UTC)' })) });

type Variables = ReadonlyMap<string, string>;

const MAX_REDIRECTS = 5;

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;

function fill(template: string, variables: Variables, encode: (v: string) => string): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    const value = variables.get(name);
    if (value === undefined) throw new ConnectorError('config', `${whole}: no such value (known: ${[...variables.keys()].join(', ') || 'none'})`);
    return encode(value);
  });
}

function fillBody(body: unknown, variables: Variables): unknown {
  if (typeof body === 'string') return fill(body, variables, (v) => v);
  if (Array.isArray(body)) return body.map((b) => fillBody(b, variables));
  if (body !== null && typeof body === 'object') return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, fillBody(v, variables)]));
  return body;
}

/** Where a request went, for messages: never the query, which may hold an API key. */
const describe = (method: string, url: URL): string => `${method} ${url.origin}${url.pathname}`;

interface Session {
  readonly headers: Record<string, string>;
  readonly query: Record<string, string>;
}

async function readBody(response: Response, limit: number, what: string): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      throw new ConnectorError('source', `${what} answered more than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const snippet = (text: string): string => {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
  const flat = text.replace(/\s+/g, ' ').trim();
  return title ? `"${title}"` : `"${flat.slice(0, 160)}${flat.length > 160 ? '…' : ''}"`;
};

async function request(method: string, url: URL, init: { headers: Record<string, string>; body?: string | undefined }, config: Config, signal: AbortSignal): Promise<unknown> {
  const what = describe(method, url);
  let response: Response;
  let at = url;
  for (let redirects = 0; ; redirects++) {
    try {
      response = await fetch(at, { method, headers: { accept: 'application/json', ...init.headers }, body: init.body, signal, redirect: 'manual' });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      const cause = (error as { cause?: Error }).cause;
      throw networkFailure(error, what) ?? new ConnectorError('unreachable', `${what} failed: ${cause?.message ?? (error as Error).message}`);
    }
    const location = response.status >= 300 && response.status < 400 ? response.headers.get('location') : null;
    if (location === null) break;
    await response.body?.cancel();
    // Redirects are followed on the same server only: an API key header would go along to another.
    const next = new URL(location, at);
    if (next.origin !== url.origin) throw new ConnectorError('protocol', `${what} redirects to another server (${next.origin}): not following it with the credentials`);
    if (redirects >= MAX_REDIRECTS) throw new ConnectorError('protocol', `${what} redirects more than ${MAX_REDIRECTS} times`);
    at = next;
  }
  const text = await readBody(response, config.maxResponseBytes, what);
  if (response.status === 401 || response.status === 403) {
    throw new ConnectorError('auth', `${what} answered ${response.status} ${response.statusText}: the API refused the credentials`);
  }
  if (response.status >= 400) {
    const retry = response.headers.get('retry-after');
    throw new ConnectorError('source', `${what} answered ${response.status} ${response.statusText}${retry ? ` (retry after ${retry})` : ''}: ${snippet(text)}`);
  }
  const type = response.headers.get('content-type') ?? '';
  if (/html/i.test(type) || /^\s*</.test(text)) {
    throw new ConnectorError('protocol', `${what} answered HTML, not JSON (a login or error page? is the URL right?): ${snippet(text)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ConnectorError('protocol', `${what} answered something that is not JSON (${type || 'no content type'}): ${snippet(text)}`);
  }
}

async function authenticate(config: Config, signal: AbortSignal): Promise<Session> {
  const auth = config.auth;
  switch (auth.type) {
    case 'none': return { headers: {}, query: {} };
    case 'api-key': return (auth.in ?? 'header') === 'header' ? { headers: { [auth.name]: auth.value }, query: {} } : { headers: {}, query: { [auth.name]: auth.value } };
    case 'bearer': return { headers: { authorization: `Bearer ${auth.token}` }, query: {} };
    case 'basic': return { headers: { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` }, query: {} };
    case 'oauth2-client-credentials': {
      const form = new URLSearchParams({ grant_type: 'client_credentials' });
      if (auth.scope) form.set('scope', auth.scope);
      if (auth.audience) form.set('audience', auth.audience);
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if ((auth.clientAuth ?? 'basic') === 'basic') {
        headers['authorization'] = `Basic ${Buffer.from(`${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`).toString('base64')}`;
      } else {
        form.set('client_id', auth.clientId);
        form.set('client_secret', auth.clientSecret);
      }
      let token: unknown;
      try {
        token = await request('POST', new URL(auth.tokenUrl), { headers, body: form.toString() }, config, signal);
      } catch (error) {
        if (error instanceof ConnectorError && (error.code === 'auth' || (error.code === 'source' && / 400 /.test(error.message)))) {
          throw new ConnectorError('auth', `the token endpoint refused the client credentials: ${error.message}`);
        }
        throw error;
      }
      const accessToken = (token as { access_token?: unknown } | null)?.access_token;
      if (typeof accessToken !== 'string' || accessToken === '') throw new ConnectorError('protocol', `the token endpoint ${new URL(auth.tokenUrl).origin} answered without an access_token`);
      return { headers: { authorization: `Bearer ${accessToken}` }, query: {} };
    }
  }
}

function stepUrl(step: StepConfig, variables: Variables, session: Session, base: URL | undefined): URL {
  let url: URL;
  try {
    url = new URL(fill(step.url, variables, encodeURIComponent), base);
  } catch (error) {
    if (error instanceof ConnectorError) throw error;
    throw new ConnectorError('config', `steps: "${step.url}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConnectorError('config', `steps: ${url.protocol} is not HTTP`);
  for (const [name, value] of Object.entries({ ...step.query })) url.searchParams.set(name, fill(value, variables, (v) => v));
  for (const [name, value] of Object.entries(session.query)) url.searchParams.set(name, value);
  return url;
}

function stepInit(step: StepConfig, variables: Variables, session: Session) {
  const headers: Record<string, string> = { ...session.headers };
  for (const [name, value] of Object.entries(step.headers)) headers[name] = fill(value, variables, (v) => v);
  if (step.method === 'POST' && step.body !== undefined) {
    headers['content-type'] = 'application/json';
    return { headers, body: JSON.stringify(fillBody(step.body, variables)) };
  }
  return { headers };
}

function formatSince(ms: number, format: string): string {
  return format === 'unix-s' ? String(Math.floor(ms / 1000)) : format === 'unix-ms' ? String(ms) : formatUtcInstant(ms);
}

interface Fetched {
  readonly readings: TargetReading[];
  readonly problems: Problem[];
  readonly pages: number;
  readonly more: boolean;
  readonly newest: number | undefined;
}

async function fetchAll(config: Config, since: string | undefined, context: RunContext, limit: number): Promise<Fetched> {
  const session = await authenticate(config, context.signal);
  const variables = new Map<string, string>();
  const sinceMs = since !== undefined ? Date.parse(since) - config.since.overlapS * 1000 : config.since.initial !== undefined ? Date.parse(config.since.initial) : undefined;
  if (sinceMs !== undefined) variables.set('since', formatSince(sinceMs, config.since.format));
  variables.set('now', formatSince(context.now(), config.since.format));
  const steps = config.steps;
  let base: URL | undefined;
  for (const step of steps.slice(0, -1)) {
    const url = stepUrl(step, variables, session, base);
    const document = await request(step.method, url, stepInit(step, variables, session), config, context.signal);
    for (const [name, path] of Object.entries(step.extract)) {
      const found = jsonPathFirst(path, document);
      if (found === undefined || found === null || typeof found === 'object') throw new ConnectorError('source', `${describe(step.method, url)}: ${path} found no value for {{${name}}}`);
      variables.set(name, String(found));
    }
    base = url;
  }

  const last = steps[steps.length - 1]!;
  const mapping: RecordMapping = {
    timestampField: config.mapping.timestamp, timestampFormat: config.mapping.timestampFormat, timeZone: config.mapping.timeZone, values: config.mapping.values,
  };
  const mapRecord = recordMapper(mapping);
  const readings: TargetReading[] = [];
  const problems: Problem[] = [];
  let newest: number | undefined;
  let url = stepUrl(last, variables, session, base);
  const paging = last.paging;
  let page = paging.type === 'page' ? paging.start ?? 1 : 0;
  if (paging.type === 'page') url.searchParams.set(paging.param, String(page));
  for (let pages = 1; ; pages++) {
    const document = await request(last.method, url, stepInit(last, variables, session), config, context.signal);
    const items = jsonPathAll(config.mapping.items, document);
    items.forEach((item, i) => {
      const mapped = mapRecord((field) => jsonPathFirst(field, item), `page ${pages} item ${i}`);
      readings.push(...mapped.readings);
      problems.push(...mapped.problems);
      if (mapped.tsMs !== undefined && mapped.readings.length > 0 && (newest === undefined || mapped.tsMs > newest)) newest = mapped.tsMs;
    });
    if (readings.length >= limit) return { readings, problems, pages, more: false, newest };
    let next: URL | undefined;
    if (paging.type === 'next-link') {
      const link = jsonPathFirst(paging.path, document);
      if (typeof link === 'string' && link !== '') next = new URL(link, url);
    } else if (paging.type === 'cursor') {
      const cursor = jsonPathFirst(paging.path, document);
      if ((typeof cursor === 'string' && cursor !== '') || typeof cursor === 'number') {
        next = new URL(url);
        next.searchParams.set(paging.param, String(cursor));
      }
    } else if (paging.type === 'page' && items.length > 0) {
      next = new URL(url);
      next.searchParams.set(paging.param, String(++page));
    }
    if (!next) return { readings, problems, pages, more: false, newest };
    if (next.origin !== url.origin) throw new ConnectorError('protocol', `${describe(last.method, url)}: the next page is on another server (${next.origin}); not following it with the credentials`);
    if (pages >= config.maxPages) return { readings, problems, pages, more: true, newest };
    url = next;
  }
}

const kind: ConnectorKind<typeof Config, typeof State> = {
  name: 'http-json',
  summary: 'HTTP JSON APIs: API key, bearer, basic or OAuth2 client credentials; chained requests with paging; JSONPath mapping',
  configSchema: Config,
  stateSchema: State,
  initialState: {},
  defaultTimeoutMs: 60_000,
  configProblems(config) {
    const m = config.mapping;
    const problems = recordMappingProblems({ timestampField: m.timestamp, timestampFormat: m.timestampFormat, timeZone: m.timeZone, values: m.values }).map((p) => `mapping/${p}`);
    for (const [where, path] of [['mapping/items', m.items], ['mapping/timestamp', m.timestamp], ...m.values.flatMap((v, i) => [[`mapping/values/${i}/field`, v.field], ...(v.targetField ? [[`mapping/values/${i}/targetField`, v.targetField]] : [])])] as [string, string][]) {
      const problem = jsonPathProblem(path);
      if (problem) problems.push(`${where}: ${problem}`);
    }
    config.steps.forEach((step, i) => {
      for (const [name, path] of Object.entries(step.extract)) {
        const problem = jsonPathProblem(path);
        if (problem) problems.push(`steps/${i}/extract/${name}: ${problem}`);
      }
      if (step.paging.type === 'next-link' || step.paging.type === 'cursor') {
        const problem = jsonPathProblem(step.paging.path);
        if (problem) problems.push(`steps/${i}/paging/path: ${problem}`);
      }
    });
    const zone = timeZoneProblem(m.timeZone);
    if (zone) problems.push(`mapping/timeZone: ${zone}`);
    const format = timestampFormatProblem(m.timestampFormat);
    if (format) problems.push(`mapping/timestampFormat: ${format}`);
    return problems;
  },
  async test(config, context, limit) {
    const fetched = await fetchAll(config, undefined, context, limit);
    if (fetched.readings.length === 0 && fetched.problems.length === 0) {
      throw new ConnectorError('source', `the API answered, but ${config.mapping.items} found no records with values (${fetched.pages} page${fetched.pages === 1 ? '' : 's'})`);
    }
    return { readings: fetched.readings.slice(0, limit), problems: fetched.problems.slice(0, limit), details: { pages: String(fetched.pages) } };
  },
  async run(config, state, context) {
    const fetched = await fetchAll(config, state.since, context, Number.POSITIVE_INFINITY);
    const newest = fetched.newest === undefined ? state.since : formatUtcInstant(Math.max(fetched.newest, state.since === undefined ? fetched.newest : Date.parse(state.since)));
    return {
      readings: fetched.readings,
      problems: fetched.problems,
      more: fetched.more,
      state: newest === undefined ? {} : { since: newest },
      details: { pages: String(fetched.pages) },
    };
  },
};

registerKind(kind);
