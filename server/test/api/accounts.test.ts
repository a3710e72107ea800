import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../support/stores.js';
import { sessionCookie, signUp, startTestPlatform, unique, type TestPlatform } from '../support/platform.js';

describe.each(storeKinds)('accounts on %s', (kind) => {
  let tp: TestPlatform;
  beforeAll(async () => {
    tp = await startTestPlatform(kind, { loginRateLimit: { max: 5, windowMs: 60_000 } });
  });
  afterAll(() => tp?.close());

  it('signs up, stores an argon2id hash, logs in with a cookie and logs out', async () => {
    const email = `${unique('alice')}@example.org`;
    const signup = await tp.call('POST', '/api/v1/auth/signup', { body: { email, password: 'correct horse battery', displayName: 'Alice' } });
    expect(signup.status).toBe(201);
    expect(signup.body).toMatchObject({ email, displayName: 'Alice', isAdmin: false });
    expect(signup.body).not.toHaveProperty('passwordHash');
    const [stored] = await tp.platform.db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE email = $1', [email]);
    expect(stored!.password_hash).toMatch(/^\$argon2id\$/);

    const setCookie = String(signup.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);

    const login = await tp.call('POST', '/api/v1/auth/login', { body: { email: email.toUpperCase(), password: 'correct horse battery' } });
    expect(login.status).toBe(200);
    const cookie = sessionCookie(login);
    expect((await tp.call('GET', '/api/v1/me', { cookie })).body.user.email).toBe(email);

    expect((await tp.call('POST', '/api/v1/auth/logout', { cookie })).status).toBe(204);
    expect((await tp.call('GET', '/api/v1/me', { cookie })).status).toBe(401);
  });

  it('refuses a duplicate email, a wrong password and an unknown account alike', async () => {
    const user = await signUp(tp, 'bob');
    const again = await tp.call('POST', '/api/v1/auth/signup', { body: { email: user.email, password: 'another-password', displayName: 'B' } });
    expect(again.status).toBe(409);
    const wrong = await tp.call('POST', '/api/v1/auth/login', { body: { email: user.email, password: 'wrong-password' } });
    const unknown = await tp.call('POST', '/api/v1/auth/login', { body: { email: 'nobody@example.org', password: 'wrong-password' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.message).toBe(unknown.body.message);
  });

  it('rate-limits login attempts per address and account', async () => {
    const user = await signUp(tp, 'carol');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      statuses.push((await tp.call('POST', '/api/v1/auth/login', { body: { email: user.email, password: 'guess-' + i } })).status);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    const limited = await tp.call('POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: 'too_many_requests' });
    // Another account from the same address is not locked out by carol's attacker.
    const other = await signUp(tp, 'dave');
    expect((await tp.call('POST', '/api/v1/auth/login', { body: { email: other.email, password: other.password } })).status).toBe(200);
  });

  it('API tokens authenticate, are stored hashed and stop working when revoked', async () => {
    const user = await signUp(tp, 'erin');
    const created = await tp.call('POST', '/api/v1/me/tokens', { cookie: user.cookie, body: { name: 'script' } });
    expect(created.body.token).toMatch(/^gs_/);
    const rows = await tp.platform.db.query<{ token_hash: string }>('SELECT token_hash FROM api_tokens WHERE id = $1', [created.body.id]);
    expect(rows[0]!.token_hash).not.toContain(created.body.token);
    expect((await tp.call('GET', '/api/v1/me', { token: created.body.token })).status).toBe(200);
    const listed = await tp.call('GET', '/api/v1/me/tokens', { token: created.body.token });
    expect(listed.body.find((t: { id: string }) => t.id === created.body.id)).not.toHaveProperty('token');
    expect((await tp.call('DELETE', `/api/v1/me/tokens/${created.body.id}`, { cookie: user.cookie })).status).toBe(204);
    expect((await tp.call('GET', '/api/v1/me', { token: created.body.token })).status).toBe(401);
    expect((await tp.call('GET', '/api/v1/me', { token: 'gs_forged' })).status).toBe(401);
  });

  it('changes a password: the old one stops working', async () => {
    const user = await signUp(tp, 'frank');
    const changed = await tp.call('POST', '/api/v1/me/password', { cookie: user.cookie, body: { currentPassword: user.password, newPassword: 'brand-new-password' } });
    expect(changed.status).toBe(204);
    expect((await tp.call('POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } })).status).toBe(401);
    expect((await tp.call('POST', '/api/v1/auth/login', { body: { email: user.email, password: 'brand-new-password' } })).status).toBe(200);
  });

  it('the first start creates an admin whose one-time password must be replaced before anything else', async () => {
    const fresh = await startTestPlatform(kind);
    try {
      // startTestPlatform already replaced the one-time password: it no longer logs in.
      const bootstrap = fresh.platform.bootstrapAdmin!;
      expect(bootstrap.email).toBe('admin@gridshare.local');
      expect((await fresh.call('POST', '/api/v1/auth/login', { body: { email: bootstrap.email, password: bootstrap.password } })).status).toBe(401);
      expect((await fresh.call('GET', '/api/v1/users', { token: fresh.admin.token })).status).toBe(200);
    } finally {
      await fresh.close();
    }
  });

  it('holds a new admin to the password change', async () => {
    const fresh = await startTestPlatform(kind);
    try {
      await fresh.platform.db.query('UPDATE users SET must_change_password = true WHERE is_admin');
      const blocked = await fresh.call('GET', '/api/v1/users', { token: fresh.admin.token });
      expect(blocked.status).toBe(403);
      expect(blocked.body.message).toMatch(/one-time password/);
      expect((await fresh.call('GET', '/api/v1/me', { token: fresh.admin.token })).status).toBe(200);
    } finally {
      await fresh.close();
    }
  });
});
