/** Items 6 and 7 of the security hardening: response headers, no-store on secrets, and the origin check (CSRF). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionCookie, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';

function directives(csp: unknown): Map<string, string> {
  return new Map(String(csp).split(';').map((d) => d.trim()).filter(Boolean).map((d) => {
    const [name, ...values] = d.split(/\s+/);
    return [name!, values.join(' ')];
  }));
}

describe('security headers and origin check (pglite)', () => {
  let tp: TestPlatform;
  let w: World;
  let managerCookie: string;
  let origin: string;
  beforeAll(async () => {
    tp = await startTestPlatform('pglite');
    w = await buildWorld(tp);
    const login = await tp.call('POST', '/api/v1/auth/login', { body: { email: w.managerA.email, password: w.managerA.password } });
    managerCookie = sessionCookie(login);
    origin = tp.platform.httpUrl.replace('localhost', '127.0.0.1');
  });
  afterAll(() => tp?.close());

  it('every response carries CSP, frame protection, nosniff and a referrer policy; no HSTS over http', async () => {
    for (const path of ['/', '/members/x', '/docs', '/docs/static/index.html', '/api/v1/communities', '/health', '/api/v1/nothing']) {
      const response = await tp.call('GET', path);
      const csp = directives(response.headers['content-security-policy']);
      expect(csp.get('default-src'), path).toBe("'self'");
      expect(csp.get('script-src'), path).toBe("'self'");
      expect(csp.get('frame-ancestors'), path).toBe("'none'");
      expect(csp.get('object-src'), path).toBe("'none'");
      expect(csp.has('upgrade-insecure-requests'), path).toBe(false);
      expect(response.headers['x-frame-options'], path).toBe('DENY');
      expect(response.headers['x-content-type-options'], path).toBe('nosniff');
      expect(response.headers['referrer-policy'], path).toBe('same-origin');
      expect(response.headers['strict-transport-security'], path).toBeUndefined();
    }
  });

  it('responses that carry a secret are never stored: config.json, key rotation, a new API token, batch ZIPs, QR codes', async () => {
    const token = w.managerA.token;
    const secretResponses = [
      await tp.call('GET', `/api/v1/devices/${w.provisionedA}/config.json`, { token }),
      await tp.call('POST', `/api/v1/devices/${w.provisionedA}/keys/secondary/rotate`, { token }),
      await tp.call('POST', '/api/v1/me/tokens', { token, body: { name: 'no-store' } }),
      await tp.call('GET', `/api/v1/device-batches/${w.batchA}/artefacts.zip`, { token }),
      await tp.call('GET', `/api/v1/devices/${w.provisionedA}/qr.png`, { token }),
      await tp.call('POST', `/api/v1/communities/${w.communityA}/device-batches`, { token, body: { count: 1 } }),
      await tp.call('POST', '/api/v1/auth/login', { body: { email: w.memberA.email, password: w.memberA.password } }),
    ];
    for (const response of secretResponses) {
      expect(response.status, response.raw.body.slice(0, 200)).toBeLessThan(300);
      expect(response.headers['cache-control'], String(response.headers['content-type'])).toBe('no-store');
    }
    // Static assets of the app keep their own caching.
    expect((await tp.call('GET', '/')).headers['cache-control']).toBe('no-cache');
  });

  it('refuses a state change authenticated by the session cookie when another site asks for it', async () => {
    const rotate = `/api/v1/devices/${w.provisionedA}/keys/secondary/rotate`;
    const [before] = await tp.platform.db.query<{ secondary_rotated_at: Date }>('SELECT secondary_rotated_at FROM device_credentials WHERE device_id = $1', [w.provisionedA]);
    for (const headers of <Record<string, string>[]>[
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { referer: 'https://evil.example/page' },
      { origin: `http://127.0.0.1.evil.example` },
    ]) {
      const refused = await tp.call('POST', rotate, { cookie: managerCookie, headers });
      expect(refused.status, JSON.stringify(headers)).toBe(403);
      expect(refused.body.message).toMatch(/cross-origin/);
    }
    const [after] = await tp.platform.db.query<{ secondary_rotated_at: Date }>('SELECT secondary_rotated_at FROM device_credentials WHERE device_id = $1', [w.provisionedA]);
    expect(after!.secondary_rotated_at).toEqual(before!.secondary_rotated_at);
    const patch = await tp.call('PATCH', `/api/v1/communities/${w.communityA}`, { cookie: managerCookie, body: { description: 'csrf' }, headers: { origin: 'https://evil.example' } });
    expect(patch.status).toBe(403);
    // Another site cannot log a visitor into its own account either.
    expect((await tp.call('POST', '/api/v1/auth/login', { body: { email: w.memberA.email, password: w.memberA.password }, headers: { origin: 'https://evil.example' } })).status).toBe(403);

    // The site itself, with Origin, with only a Referer, or a client that sends neither.
    const host = new URL(origin).host;
    for (const headers of <Record<string, string>[]>[{ origin, host }, { referer: `${origin}/manage/x/devices`, host }, { host }]) {
      expect((await tp.call('POST', rotate, { cookie: managerCookie, headers })).status, JSON.stringify(headers)).toBe(200);
    }
    // Bearer tokens are not sent by a browser on its own: unaffected.
    expect((await tp.call('POST', rotate, { token: w.managerA.token, headers: { origin: 'https://evil.example' } })).status).toBe(200);
    // Reading is not a state change.
    expect((await tp.call('GET', `/api/v1/communities/${w.communityA}`, { cookie: managerCookie, headers: { origin: 'https://evil.example' } })).status).toBe(200);
  });
});

describe('behind https (pglite)', () => {
  let tp: TestPlatform;
  beforeAll(async () => {
    tp = await startTestPlatform('pglite', { publicUrl: 'https://energy.example.org' });
  });
  afterAll(() => tp?.close());

  it('sends HSTS, upgrades insecure requests and marks the session cookie Secure', async () => {
    const response = await tp.call('GET', '/');
    expect(response.headers['strict-transport-security']).toMatch(/^max-age=\d{7,}/);
    expect(directives(response.headers['content-security-policy']).has('upgrade-insecure-requests')).toBe(true);
    const login = await tp.call('POST', '/api/v1/auth/login', { body: { email: tp.admin.email, password: tp.admin.password } });
    expect(login.status).toBe(200);
    expect(String(login.headers['set-cookie'])).toMatch(/;\s*Secure/i);
  });

  it('accepts the public URL as the origin when a proxy rewrites Host', async () => {
    const login = await tp.call('POST', '/api/v1/auth/login', {
      body: { email: tp.admin.email, password: tp.admin.password }, headers: { origin: 'https://energy.example.org', host: '127.0.0.1:8080' },
    });
    expect(login.status).toBe(200);
    const foreign = await tp.call('POST', '/api/v1/auth/logout', { cookie: sessionCookie(login), headers: { origin: 'https://energy.example.org.evil.example', host: '127.0.0.1:8080' } });
    expect(foreign.status).toBe(403);
  });
});
