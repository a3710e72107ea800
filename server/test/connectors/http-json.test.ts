import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConnector, testConnector } from '../../src/connectors/index.js';
import { freePort } from '../support/process.js';

/**
 * A vendor cloud on a loopback port: OAuth2 client credentials, a site list, paged readings
 * since a watermark; and the ways such APIs go wrong (an HTML login page, a 500, a hang).
 */
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const now = () => NOW;
const POINTS = Array.from({ length: 5 }, (_, i) => ({ time: new Date(Date.UTC(2026, 5, 1, 10, 15 * i)).toISOString(), pv_kw: (1.25 * i).toFixed(2), grid_w: i % 2 === 0 ? 300 : -450 }));
let server: Server;
let base: string;
const seen: { path: string; since: string | null }[] = [];

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const authorised = req.headers.authorization === 'Bearer tok-123';
  if (url.pathname === '/oauth/token' && req.method === 'POST') {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const basic = `Basic ${Buffer.from('client-1:secret-1').toString('base64')}`;
      if (form.get('grant_type') !== 'client_credentials' || req.headers.authorization !== basic) return json(res, 401, { error: 'invalid_client' });
      json(res, 200, { access_token: 'tok-123', token_type: 'Bearer', expires_in: 3600 });
    });
    return;
  }
  if (url.pathname === '/api/sites') return authorised ? json(res, 200, { sites: [{ id: 'site-7', name: 'School' }] }) : json(res, 401, { error: 'unauthorised' });
  if (url.pathname === '/api/sites/site-7/readings') {
    if (!authorised) return json(res, 401, {});
    const since = url.searchParams.get('since');
    seen.push({ path: url.pathname, since });
    const newer = POINTS.filter((p) => since === null || p.time > since);
    const page = Number(url.searchParams.get('page') ?? '1');
    const slice = newer.slice((page - 1) * 2, page * 2);
    const next = page * 2 < newer.length ? `/api/sites/site-7/readings?page=${page + 1}${since ? `&since=${encodeURIComponent(since)}` : ''}` : null;
    return json(res, 200, { data: slice.map((p, i) => (page === 2 && i === 1 ? { ...p, time: 'yesterday' } : p)), links: { next } });
  }
  if (url.pathname === '/keyed') {
    return url.searchParams.get('key') === 'k-9' ? json(res, 200, [{ t: 1780300800, v: 42 }]) : json(res, 403, {});
  }
  if (url.pathname === '/html') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><html><head><title>Sign in – Vendor Cloud</title></head><body>…</body></html>');
  if (url.pathname === '/broken') return void res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream database unavailable');
  if (url.pathname === '/hang') return;
  if (url.pathname === '/moved') return void res.writeHead(302, { location: `/keyed${url.search}` }).end();
  if (url.pathname === '/elsewhere') return void res.writeHead(307, { location: 'http://127.0.0.2:9/steal' }).end();
  res.writeHead(404).end();
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const vendorCloud = () => ({
  auth: { type: 'oauth2-client-credentials', tokenUrl: `${base}/oauth/token`, clientId: 'client-1', clientSecret: 'secret-1' },
  steps: [
    { url: `${base}/api/sites`, extract: { site: '$.sites[0].id' } },
    { url: `${base}/api/sites/{{site}}/readings`, query: { since: '{{since}}' }, paging: { type: 'next-link', path: '$.links.next' } },
  ],
  since: { initial: '2026-06-01T00:00:00Z' },
  mapping: {
    items: '$.data[*]',
    timestamp: '$.time',
    values: [
      { field: '$.pv_kw', target: 'school-pv', quantity: 'pv.power', unit: 'kW' },
      { field: '$.grid_w', target: 'school', quantity: 'power.import', negativeQuantity: 'power.export', unit: 'W' },
    ],
  },
});

describe('http-json against an API on loopback', () => {
  it('authenticates with OAuth2, follows the chain and the pages, maps the records and keeps a watermark', async () => {
    seen.length = 0;
    const report = await runConnector('http-json', vendorCloud(), undefined, { now });
    expect(report.error).toBeUndefined();
    expect(report.outcome).toBe('partial');
    expect(report.problems).toEqual([{ where: 'page 2 item 1', message: '$.time: "yesterday" is not an ISO 8601 timestamp' }]);
    const pv = report.readings.filter((r) => r.quantity === 'pv.power').map((r) => [r.ts, r.value]);
    expect(pv).toEqual([['2026-06-01T10:00:00Z', 0], ['2026-06-01T10:15:00Z', 1250], ['2026-06-01T10:30:00Z', 2500], ['2026-06-01T11:00:00Z', 5000]]);
    expect(report.readings.filter((r) => r.ts === '2026-06-01T10:15:00Z' && r.target === 'school').map((r) => [r.quantity, r.value])).toEqual([['power.import', 0], ['power.export', 450]]);
    expect(report.details['pages']).toBe('3');
    expect(report.state).toEqual({ since: '2026-06-01T11:00:00Z' });
    expect(seen[0]!.since).toBe('2026-06-01T00:00:00Z');
    // The next run asks only for what came after the watermark.
    const next = await runConnector('http-json', vendorCloud(), report.state, { now });
    expect(seen.at(-1)!.since).toBe('2026-06-01T11:00:00Z');
    expect(next.readings).toEqual([]);
    expect(next.state).toEqual({ since: '2026-06-01T11:00:00Z' });
  });

  it('sends an API key in the query and reads Unix timestamps', async () => {
    const config = {
      auth: { type: 'api-key', in: 'query', name: 'key', value: 'k-9' },
      steps: [{ url: `${base}/keyed` }],
      mapping: { timestamp: '$.t', timestampFormat: 'unix-s', values: [{ field: '$.v', target: 'plug', quantity: 'power.import', unit: 'W' }] },
    };
    const report = await testConnector('http-json', config, { now });
    expect(report.readings).toEqual([{ target: 'plug', ts: '2026-06-01T08:00:00Z', quantity: 'power.import', value: 42, unit: 'W' }]);
    // A redirect on the same server is followed; one to another server is not, with the key.
    const moved = await testConnector('http-json', { ...config, steps: [{ url: `${base}/moved` }] }, { now });
    expect(moved.readings).toHaveLength(1);
    const elsewhere = await testConnector('http-json', { ...config, auth: { type: 'api-key', name: 'X-Key', value: 'k-9' }, steps: [{ url: `${base}/elsewhere` }] }, { now });
    expect(elsewhere.error).toEqual({ code: 'protocol', message: `GET ${base}/elsewhere redirects to another server (http://127.0.0.2:9): not following it with the credentials` });
    const refused = await testConnector('http-json', { ...config, auth: { ...config.auth, value: 'wrong' } }, { now });
    expect(refused.error?.code).toBe('auth');
    // The key is in the query; the message names the endpoint without it.
    expect(refused.error?.message).toBe(`GET ${base}/keyed answered 403 Forbidden: the API refused the credentials`);
  });

  it('refuses wrong client credentials at the token endpoint', async () => {
    const config = vendorCloud();
    const report = await testConnector('http-json', { ...config, auth: { ...config.auth, clientSecret: 'guess' } }, { now });
    expect(report.error).toMatchObject({ code: 'auth', message: expect.stringMatching(/token endpoint refused the client credentials/) });
  });

  it('says what it got when an API answers HTML, an error status, or nothing', async () => {
    const mapping = { timestamp: '$.t', values: [{ field: '$.v', target: 'x', quantity: 'power.import', unit: 'W' }] };
    const html = await testConnector('http-json', { steps: [{ url: `${base}/html` }], mapping }, { now });
    expect(html.error).toEqual({ code: 'protocol', message: `GET ${base}/html answered HTML, not JSON (a login or error page? is the URL right?): "Sign in – Vendor Cloud"` });
    const broken = await runConnector('http-json', { steps: [{ url: `${base}/broken` }], mapping }, { since: '2026-05-01T00:00:00Z' }, { now });
    expect(broken.error).toEqual({ code: 'source', message: `GET ${base}/broken answered 500 Internal Server Error: "upstream database unavailable"` });
    expect(broken.state).toEqual({ since: '2026-05-01T00:00:00Z' });
    const hang = await runConnector('http-json', { steps: [{ url: `${base}/hang` }], mapping }, undefined, { now, timeoutMs: 300 });
    expect(hang.error).toMatchObject({ code: 'timeout', message: expect.stringMatching(/no result within 300 ms/) });
    const port = await freePort();
    const closed = await testConnector('http-json', { steps: [{ url: `http://127.0.0.1:${port}/x` }], mapping }, { now });
    expect(closed.error).toEqual({ code: 'unreachable', message: `GET http://127.0.0.1:${port}/x refused the connection: nothing listens there` });
    const badPath = await testConnector('http-json', { steps: [{ url: `${base}/keyed` }], mapping: { ...mapping, timestamp: '$.data[' } }, { now });
    expect(badPath.error).toEqual({ code: 'config', message: 'mapping/timestamp: JSONPath "$.data[" has an unclosed bracket, parenthesis or quote' });
  });
});
