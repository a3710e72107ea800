import { createHash } from 'node:crypto';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD_RESET_TTL_MS } from '../../src/accounts/password-reset.js';
import { platformStoreKinds } from '../support/stores.js';
import { mailTo, smtpServer, type SmtpSink } from '../support/smtp.js';
import { sessionCookie, signUp, startTestPlatform, unique, type TestPlatform, type TestUser } from '../support/platform.js';

const REQUEST = '/api/v1/auth/password-reset';
const CONFIRM = '/api/v1/auth/password-reset/confirm';
const PUBLIC_URL = 'http://energy.example.org:8080';
const ACCEPTED = { message: 'if an account has this email, a link to reset its password is on its way' };
const LINK = /http:\/\/energy\.example\.org:8080\/reset-password#token=([A-Za-z0-9_-]+)/;

/** The token of the reset link in a mail, after checking the plain text and the HTML carry the same link. */
function tokenIn(mail: ParsedMail): string {
  const link = LINK.exec(mail.text ?? '');
  if (!link) throw new Error(`no reset link in: ${mail.text}`);
  expect(mail.html).toContain(`href="${link[0]}"`);
  return link[1]!;
}

describe.each(platformStoreKinds)('password reset by email on %s', (kind) => {
  let tp: TestPlatform;
  let smtp: SmtpSink;
  let nowMs = Date.now();
  let addresses = 0;
  /** Each test asks from its own client address, so the per-address limit is met only where a test means to. */
  const newAddress = () => `10.21.0.${(addresses += 1)}`;

  beforeAll(async () => {
    smtp = await smtpServer();
    tp = await startTestPlatform(kind, {
      publicUrl: PUBLIC_URL,
      smtp: { host: '127.0.0.1', port: smtp.port, secure: false, requireTls: false, from: 'Gridshare <noreply@energy.example.org>', timeoutMs: 5_000 },
      passwordReset: { perEmail: { max: 3, windowMs: 60_000 }, perAddress: { max: 6, windowMs: 60_000 }, now: () => nowMs },
    });
  });
  afterAll(async () => {
    await tp?.close();
    await smtp?.close();
  });

  const ask = (email: string, remoteAddress: string, headers: Record<string, string> = {}) =>
    tp.call('POST', REQUEST, { body: { email }, remoteAddress, headers });
  const confirm = (token: string, newPassword: string) => tp.call('POST', CONFIRM, { body: { token, newPassword } });
  const login = (email: string, password: string) => tp.call('POST', '/api/v1/auth/login', { body: { email, password } });
  /** Asks for a link and returns the token from the email it brings. */
  async function emailedToken(user: TestUser, remoteAddress: string): Promise<string> {
    const asked = await ask(user.email, remoteAddress);
    expect(asked.status).toBe(202);
    return tokenIn(await mailTo(smtp, user.email));
  }

  it('emails a link in the asking browser\'s language that sets a new password once and ends every session', async () => {
    const user = await signUp(tp, 'rita');
    const other = await login(user.email, user.password);
    const asked = await ask(user.email.toUpperCase(), newAddress(), { 'accept-language': 'de-AT,de;q=0.9,en;q=0.5' });
    expect(asked.status).toBe(202);
    expect(asked.body).toEqual(ACCEPTED);

    const mail = await mailTo(smtp, user.email);
    expect(mail.subject).toBe('Gridshare-Passwort zurücksetzen');
    expect(mail.headers.get('content-language')).toBe('de');
    const token = tokenIn(mail);
    expect(Buffer.from(token, 'base64url').length).toBeGreaterThanOrEqual(16);
    // The link opens the app's reset page.
    const page = await tp.call('GET', '/reset-password');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    // Only a hash of the token is kept.
    const stored = await tp.platform.db.query<{ token_hash: string }>('SELECT token_hash FROM account_links WHERE user_id = $1', [user.id]);
    expect(stored).toEqual([{ token_hash: createHash('sha256').update(token).digest('hex') }]);

    expect((await confirm(token, 'a brand new passphrase')).status).toBe(204);
    for (const credentials of [{ cookie: user.cookie }, { cookie: sessionCookie(other) }, { token: user.token }]) {
      expect((await tp.call('GET', '/api/v1/me', credentials)).status).toBe(401);
    }
    expect((await login(user.email, user.password)).status).toBe(401);
    expect((await login(user.email, 'a brand new passphrase')).status).toBe(200);
    // On the installation's audit trail as the account's own act (the link proved it), with the sessions it ended.
    const trail = (await tp.call('GET', '/api/v1/audit?kind=account', { token: tp.admin.token })).body.entries as { resourceId: string; action: string; actor: unknown; diff: { path: string; after: string | null }[] }[];
    const reset = trail.find((entry) => entry.resourceId === user.id && entry.action === 'reset-password');
    expect(reset?.actor).toEqual({ userId: user.id, role: 'user' });
    expect(reset?.diff.find((line) => line.path === 'endedSessions')?.after).toBe('2');
    expect(JSON.stringify(trail)).not.toContain('a brand new passphrase');

    const again = await confirm(token, 'yet another passphrase');
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ error: 'bad_request', reason: 'invalid', field: 'token' });
    expect((await login(user.email, 'a brand new passphrase')).status).toBe(200);
  });

  it('refuses a link an hour old and changes nothing', async () => {
    const user = await signUp(tp, 'sven');
    const issuedAt = nowMs;
    const token = await emailedToken(user, newAddress());
    try {
      nowMs = issuedAt + PASSWORD_RESET_TTL_MS;
      const late = await confirm(token, 'too late a passphrase');
      expect(late.status).toBe(400);
      expect(late.body).toMatchObject({ reason: 'expired', message: expect.stringMatching(/expired/) });
      expect((await login(user.email, user.password)).status).toBe(200);
      expect((await tp.call('GET', '/api/v1/me', { cookie: user.cookie })).status).toBe(200);
      // Nothing was used up: a second before the hour ends the same link still works.
      nowMs = issuedAt + PASSWORD_RESET_TTL_MS - 1_000;
      expect((await confirm(token, 'just in time passphrase')).status).toBe(204);
    } finally {
      nowMs = issuedAt;
    }
  });

  it('makes an older link useless once a newer one is asked for', async () => {
    const user = await signUp(tp, 'tine');
    const address = newAddress();
    const older = await emailedToken(user, address);
    const newer = await emailedToken(user, address);
    expect(newer).not.toBe(older);
    const stale = await confirm(older, 'from the older link');
    expect(stale.status).toBe(400);
    expect(stale.body).toMatchObject({ reason: 'invalid' });
    expect((await login(user.email, user.password)).status).toBe(200);
    expect((await confirm(newer, 'from the newer link')).status).toBe(204);
    expect((await login(user.email, 'from the newer link')).status).toBe(200);
  });

  it('answers an unknown email exactly like a known one and sends nothing', async () => {
    const stranger = `${unique('nobody-here')}@example.org`;
    const address = newAddress();
    const unknown = await ask(stranger, address);
    const user = await signUp(tp, 'ulla');
    const known = await ask(user.email, address);
    expect(unknown.status).toBe(202);
    expect(unknown.body).toEqual(known.body);
    expect(unknown.raw.payload).toBe(known.raw.payload);
    // The known account's mail arrives; by then the unknown request had its turn long before.
    await mailTo(smtp, user.email);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.received.filter((r) => r.to.includes(stranger))).toEqual([]);
  });

  it('refuses passwords sign-up refuses and malformed or unknown tokens, keeping the link', async () => {
    const user = await signUp(tp, 'vera');
    const token = await emailedToken(user, newAddress());
    const refused = [
      { token, newPassword: 'too-short' },
      { token, newPassword: 'x'.repeat(257) },
      { token, newPassword: 12345678901 },
      { token },
      { token, newPassword: 'a long enough passphrase', extra: true },
      { token: 'not a token', newPassword: 'a long enough passphrase' },
      { token: `${token}x`, newPassword: 'a long enough passphrase' },
      { newPassword: 'a long enough passphrase' },
    ];
    for (const body of refused) {
      const response = await tp.call('POST', CONFIRM, { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    const made = await confirm(Buffer.alloc(32, 7).toString('base64url'), 'a long enough passphrase');
    expect(made.status).toBe(400);
    expect(made.body).toMatchObject({ reason: 'invalid' });
    expect((await tp.call('POST', REQUEST, { body: { email: 'not-an-email' }, remoteAddress: newAddress() })).status).toBe(400);
    expect((await login(user.email, user.password)).status).toBe(200);
    expect((await confirm(token, 'a long enough passphrase')).status).toBe(204);
  });

  it('keeps a locked account locked', async () => {
    const user = await signUp(tp, 'wim');
    expect((await tp.call('POST', `/api/v1/admin/users/${user.id}/lock`, { token: tp.admin.token })).status).toBe(204);
    const token = await emailedToken(user, newAddress());
    expect((await confirm(token, 'locked but reset')).status).toBe(204);
    const refused = await login(user.email, 'locked but reset');
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/locked/);
  });

  it('limits requests per email, whoever asks, and per client address, known account or not', async () => {
    const user = await signUp(tp, 'xena');
    const perEmail: number[] = [];
    for (let i = 0; i < 4; i++) perEmail.push((await ask(i % 2 ? user.email : user.email.toUpperCase(), newAddress())).status);
    expect(perEmail).toEqual([202, 202, 202, 429]);
    const limited = await ask(user.email, newAddress());
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) await mailTo(smtp, user.email);

    const address = newAddress();
    const perAddress: number[] = [];
    for (let i = 0; i < 7; i++) perAddress.push((await ask(`${unique('anyone')}@example.org`, address)).status);
    expect(perAddress).toEqual([202, 202, 202, 202, 202, 202, 429]);
    // The unknown emails sent nothing; every mail before was taken by its test.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.received).toEqual([]);
  });
});
