import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { sessionCookie, signUp, startTestPlatform, unique, type TestPlatform } from '../support/platform.js';

describe.each(platformStoreKinds)('accounts on %s', (kind) => {
  let tp: TestPlatform;
  beforeAll(async () => {
    tp = await startTestPlatform(kind, {
      loginRateLimit: { max: 5, windowMs: 60_000 },
      loginAddressRateLimit: { max: 10, windowMs: 60_000 },
      sessionIdleMs: 3_600_000,
    });
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

  const login = (email: string, password: string, remoteAddress?: string) =>
    tp.call('POST', '/api/v1/auth/login', { body: { email, password }, ...(remoteAddress ? { remoteAddress } : {}) });

  it('rate-limits failed log-ins per address and account; a stranger elsewhere never locks the owner out', async () => {
    const user = await signUp(tp, 'carol');
    const attacker = '10.0.1.1';
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await login(user.email, `guess-${i}`, attacker)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const limited = await login(user.email, user.password, attacker);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: 'too_many_requests' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // The owner, from their own address, is not locked out by the attacker's failures.
    expect((await login(user.email, user.password, '10.0.1.2')).status).toBe(200);
    // Nor is another account at the attacker's address (up to the per-address limit).
    const other = await signUp(tp, 'dave');
    expect((await login(other.email, other.password, attacker)).status).toBe(200);
    // A success clears the count of its account and address.
    for (let i = 0; i < 4; i++) expect((await login(other.email, 'wrong-password', '10.0.1.3')).status).toBe(401);
    expect((await login(other.email, other.password, '10.0.1.3')).status).toBe(200);
    expect((await login(other.email, 'wrong-password', '10.0.1.3')).status).toBe(401);
  });

  it('limits failed log-ins per address across accounts: one wrong password on many accounts', async () => {
    const users = await Promise.all(Array.from({ length: 12 }, (_, i) => signUp(tp, `spray${i}`)));
    const sprayer = '10.0.2.1';
    const statuses: number[] = [];
    for (const user of users) statuses.push((await login(user.email, 'Summer2026!', sprayer)).status);
    expect(statuses).toEqual([...Array<number>(10).fill(401), 429, 429]);
    expect((await login(users[0]!.email, users[0]!.password, sprayer)).status).toBe(429);
    // Every account still logs in from anywhere else.
    for (const user of users.slice(0, 3)) expect((await login(user.email, user.password, '10.0.2.2')).status).toBe(200);
  });

  it('limits failed password changes like log-ins', async () => {
    const user = await signUp(tp, 'gina');
    const change = (currentPassword: string, remoteAddress: string) =>
      tp.call('POST', '/api/v1/me/password', { cookie: user.cookie, body: { currentPassword, newPassword: 'a-brand-new-password' }, remoteAddress });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await change(`guess-${i}`, '10.0.3.1')).status);
    expect(statuses).toEqual([403, 403, 403, 403, 403, 429]);
    expect((await change(user.password, '10.0.3.1')).status).toBe(429);
    expect((await change(user.password, '10.0.3.2')).status).toBe(204);
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

  it('changes a password: the old one stops working, every other session ends and every API token is revoked', async () => {
    const user = await signUp(tp, 'frank');
    const otherSession = sessionCookie(await login(user.email, user.password));
    const script = await tp.call('POST', '/api/v1/me/tokens', { cookie: user.cookie, body: { name: 'script' } });
    const changed = await tp.call('POST', '/api/v1/me/password', { cookie: user.cookie, body: { currentPassword: user.password, newPassword: 'brand-new-password' } });
    expect(changed.status).toBe(204);
    expect((await login(user.email, user.password)).status).toBe(401);
    // The session that made the change goes on; the others and the tokens do not.
    expect((await tp.call('GET', '/api/v1/me', { cookie: user.cookie })).status).toBe(200);
    expect((await tp.call('GET', '/api/v1/me', { cookie: otherSession })).status).toBe(401);
    for (const token of [user.token, script.body.token]) expect((await tp.call('GET', '/api/v1/me', { token })).status).toBe(401);
    expect((await tp.call('GET', '/api/v1/me/tokens', { cookie: user.cookie })).body).toEqual([]);

    // Changed with an API token: that token goes too, and every session with it.
    const fresh = sessionCookie(await login(user.email, 'brand-new-password'));
    const token = (await tp.call('POST', '/api/v1/me/tokens', { cookie: fresh, body: { name: 'changer' } })).body.token;
    expect((await tp.call('POST', '/api/v1/me/password', { token, body: { currentPassword: 'brand-new-password', newPassword: 'third-password-here' } })).status).toBe(204);
    expect((await tp.call('GET', '/api/v1/me', { token })).status).toBe(401);
    expect((await tp.call('GET', '/api/v1/me', { cookie: fresh })).status).toBe(401);
    expect((await tp.call('GET', '/api/v1/me', { cookie: user.cookie })).status).toBe(401);
    expect((await login(user.email, 'third-password-here')).status).toBe(200);
  });

  it('a session ends after the idle period (here 1 hour) and lives on while it is used', async () => {
    const user = await signUp(tp, 'hal');
    const hash = (await tp.platform.db.query<{ token_hash: string }>('SELECT token_hash FROM sessions WHERE user_id = $1', [user.id]))[0]!.token_hash;
    await tp.platform.db.query(`UPDATE sessions SET last_seen_at = now() - interval '50 minutes' WHERE token_hash = $1`, [hash]);
    expect((await tp.call('GET', '/api/v1/me', { cookie: user.cookie })).status).toBe(200);
    const [seen] = await tp.platform.db.query<{ idle_s: number }>('SELECT extract(epoch FROM now() - last_seen_at)::int AS idle_s FROM sessions WHERE token_hash = $1', [hash]);
    expect(seen!.idle_s).toBeLessThan(60);
    await tp.platform.db.query(`UPDATE sessions SET last_seen_at = now() - interval '61 minutes' WHERE token_hash = $1`, [hash]);
    expect((await tp.call('GET', '/api/v1/me', { cookie: user.cookie })).status).toBe(401);
    // Its absolute end still holds for a session in use.
    const other = sessionCookie(await login(user.email, user.password));
    await tp.platform.db.query(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [user.id]);
    expect((await tp.call('GET', '/api/v1/me', { cookie: other })).status).toBe(401);
  });

  it('API tokens may carry an expiry', async () => {
    const user = await signUp(tp, 'ida');
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const created = await tp.call('POST', '/api/v1/me/tokens', { cookie: user.cookie, body: { name: 'ci', expiresAt } });
    expect(created.status).toBe(201);
    expect(created.body.expiresAt).toBe(expiresAt);
    expect((await tp.call('GET', '/api/v1/me', { token: created.body.token })).status).toBe(200);
    const listed = (await tp.call('GET', '/api/v1/me/tokens', { cookie: user.cookie })).body as { id: string; expiresAt: string | null }[];
    expect(listed.find((t) => t.id === created.body.id)!.expiresAt).toBe(expiresAt);
    expect(listed.find((t) => t.id !== created.body.id)!.expiresAt).toBeNull();
    await tp.platform.db.query(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [created.body.id]);
    expect((await tp.call('GET', '/api/v1/me', { token: created.body.token })).status).toBe(401);
    const past = await tp.call('POST', '/api/v1/me/tokens', { cookie: user.cookie, body: { name: 'old', expiresAt: new Date(Date.now() - 1000).toISOString() } });
    expect(past.status).toBe(400);
    expect(past.body.field).toBe('body/expiresAt');
    const far = await tp.call('POST', '/api/v1/me/tokens', { cookie: user.cookie, body: { name: 'far', expiresAt: '2150-01-01T00:00:00Z' } });
    expect(far.body.field).toBe('body/expiresAt');
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
