/** How the platform serves the built app next to the API (no browser needed). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTestPlatform, type TestPlatform } from '../../server/test/support/platform.js';
import { WEB_DIST } from '../../server/src/web/routes.js';

describe('serving the web app', () => {
  let tp: TestPlatform;
  beforeAll(async () => {
    tp = await startTestPlatform('pglite');
  });
  afterAll(() => tp?.close());

  it('answers app paths with index.html, revalidated on every load', async () => {
    for (const path of ['/', '/members/6d6f0b8e-5c3c-4b52-9d4c-0d3f0f0a0a0a', '/manage/x/devices', '/claim?code=7K2Q-M9XD-4RTA', '/no/such/page']) {
      const response = await tp.call('GET', path);
      expect(response.status, path).toBe(200);
      expect(String(response.headers['content-type'])).toContain('text/html');
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.body).toContain('<div id="app">');
    }
  });

  it('keeps the API, docs, OpenAPI, health and metrics, and answers missing API routes and files with a JSON 404', async () => {
    expect((await tp.call('GET', '/health')).body.status).toBeDefined();
    expect((await tp.call('GET', '/openapi.json')).body.openapi).toBe('3.0.3');
    expect(String((await tp.call('GET', '/docs')).headers['content-type'])).toContain('text/html');
    expect((await tp.call('GET', '/metrics', { token: tp.admin.token })).status).toBe(200);
    expect((await tp.call('GET', '/metrics')).status).toBe(401);
    for (const path of ['/api/v1/no-such-route', '/api/v1/members/x/energy-by-magic', '/api/v2', '/assets/missing.js', '/favicon.ico', '/docs/nothing-here.js']) {
      const response = await tp.call('GET', path);
      expect(response.status, path).toBe(404);
      expect(response.body).toEqual({ error: 'not_found', message: `no route GET ${path}` });
    }
    // Other methods on app paths are not the app's.
    expect((await tp.call('POST', '/members/x', { body: {} })).status).toBe(404);
  });

  it('sends hashed assets compressed and cacheable for a year', async () => {
    const script = readdirSync(join(WEB_DIST, 'assets')).find((name) => /^index-.*\.js$/.test(name))!;
    const brotli = await tp.call('GET', `/assets/${script}`, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(brotli.status).toBe(200);
    expect(brotli.headers['content-encoding']).toBe('br');
    expect(brotli.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const plain = await tp.call('GET', `/assets/${script}`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(String(plain.headers['content-type'])).toContain('javascript');
    expect(plain.raw.rawPayload.length).toBeGreaterThan(Number(brotli.headers['content-length']));
  });
});
