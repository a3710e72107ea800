import { createHash } from 'node:crypto';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LINK_RULES } from '../../src/accounts/emailed-links.js';
import { INVITATION_SEND_LIMITS } from '../../src/registry/invitations.js';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { NOTIFICATIONS_SENDER_JOB } from '../../src/notifications/index.js';
import { platformStoreKinds } from '../support/stores.js';
import { mailTo, smtpServer, type SmtpSink } from '../support/smtp.js';
import { sessionCookie, signUp, startTestPlatform, unique, type TestPlatform, type TestUser } from '../support/platform.js';
import { communityBody } from '../support/world.js';

const PUBLIC_URL = 'http://energy.example.org:8080';
const VERIFY = '/api/v1/auth/verify-email';
const RESEND = '/api/v1/me/verification-email';
const LINK = /http:\/\/energy\.example\.org:8080\/verify-email#token=([A-Za-z0-9_-]{43})/;
const INVITATION_LINK = /http:\/\/energy\.example\.org:8080\/signup#invitation=([A-Za-z0-9_-]{43})/;

/** The token of the verification link in a mail, after checking the plain text and the HTML carry the same link. */
function tokenIn(mail: ParsedMail): string {
  const link = LINK.exec(mail.text ?? '');
  if (!link) throw new Error(`no verification link in: ${mail.text}`);
  expect(mail.html).toContain(`href="${link[0]}"`);
  return link[1]!;
}

interface NewAccount { id: string; email: string; password: string; cookie: string; emailVerifiedAt: string | null }

describe.each(platformStoreKinds)('email verification at sign-up on %s', (kind) => {
  let tp: TestPlatform;
  let smtp: SmtpSink;
  let nowMs = Date.now();
  let addresses = 0;
  /** Each test asks from its own client address, so the per-address limit is met only where a test means to. */
  const newAddress = () => `10.22.0.${(addresses += 1)}`;
  let manager: TestUser;
  let communityId: string;

  beforeAll(async () => {
    smtp = await smtpServer();
    tp = await startTestPlatform(kind, {
      publicUrl: PUBLIC_URL,
      smtp: { host: '127.0.0.1', port: smtp.port, secure: false, requireTls: false, from: 'Gridshare <noreply@energy.example.org>', timeoutMs: 5_000 },
      passwordReset: { now: () => nowMs },
    });
    manager = await signUp(tp, 'verifier-manager');
    const community = await tp.call('POST', '/api/v1/communities', { token: manager.token, body: communityBody(unique('Verified Street ')) });
    expect(community.status).toBe(201);
    communityId = community.body.id;
  });
  afterAll(async () => {
    await tp?.close();
    await smtp?.close();
  });

  async function signUpByApi(name: string, options: { remoteAddress?: string; headers?: Record<string, string>; invitationToken?: string; email?: string } = {}): Promise<NewAccount> {
    const email = options.email ?? `${unique(name)}@example.org`;
    const password = `pw-${name}-long-enough`;
    const response = await tp.call('POST', '/api/v1/auth/signup', {
      body: { email, password, displayName: name, ...(options.invitationToken ? { invitationToken: options.invitationToken } : {}) },
      remoteAddress: options.remoteAddress ?? newAddress(), headers: options.headers ?? {},
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return { id: response.body.id, email, password, cookie: sessionCookie(response), emailVerifiedAt: response.body.emailVerifiedAt };
  }
  const me = async (cookie: string) => (await tp.call('GET', '/api/v1/me', { cookie })).body.user as { emailVerifiedAt: string | null; locale: string | null };
  const verify = (token: string) => tp.call('POST', VERIFY, { body: { token } });
  const deliver = async () => {
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.jobs.flush(NOTIFICATIONS_SENDER_JOB);
  };

  it('emails a new account a link that verifies it once; until then it cannot found a community', async () => {
    const account = await signUpByApi('vera', { headers: { 'accept-language': 'de-AT,de;q=0.9' } });
    expect(account.emailVerifiedAt).toBeNull();
    const mail = await mailTo(smtp, account.email);
    expect(mail.subject).toBe('Bestätigen Sie Ihre E-Mail-Adresse');
    expect(mail.headers.get('content-language')).toBe('de');
    const token = tokenIn(mail);
    // Only a hash of the token is kept, beside the account's other links.
    const stored = await tp.platform.db.query<{ token_hash: string; purpose: string }>('SELECT token_hash, purpose FROM account_links WHERE user_id = $1', [account.id]);
    expect(stored).toEqual([{ token_hash: createHash('sha256').update(token).digest('hex'), purpose: 'email-verification' }]);
    // The link opens the app's page.
    const page = await tp.call('GET', '/verify-email');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);

    const refused = await tp.call('POST', '/api/v1/communities', { cookie: account.cookie, body: communityBody(unique('Too early ')) });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: 'forbidden', reason: 'email-unverified', message: expect.stringMatching(/^founding a community needs a verified email address/) });

    expect((await verify(token)).status).toBe(204);
    expect(Date.parse((await me(account.cookie)).emailVerifiedAt!)).toBeGreaterThan(0);
    expect((await tp.call('POST', '/api/v1/communities', { cookie: account.cookie, body: communityBody(unique('In time ')) })).status).toBe(201);
    // On the installation's trail as the account's own act.
    const trail = (await tp.call('GET', '/api/v1/audit?kind=account', { token: tp.admin.token })).body.entries as { resourceId: string; action: string; actor: unknown }[];
    expect(trail.find((entry) => entry.resourceId === account.id && entry.action === 'verify-email')?.actor).toEqual({ userId: account.id, role: 'user' });

    // Replayed: used up.
    const again = await verify(token);
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ error: 'bad_request', reason: 'invalid', field: 'token' });
    // A verified account asks for no new link.
    expect((await tp.call('POST', RESEND, { cookie: account.cookie, remoteAddress: newAddress() })).status).toBe(409);
  });

  it('refuses an expired, a forged and a malformed link, and changes nothing', async () => {
    const account = await signUpByApi('ewald');
    const token = tokenIn(await mailTo(smtp, account.email));
    const issuedAt = nowMs;
    try {
      nowMs = issuedAt + LINK_RULES['email-verification'].ttlMs;
      const late = await verify(token);
      expect(late.status).toBe(400);
      expect(late.body).toMatchObject({ reason: 'expired', message: expect.stringMatching(/expired/) });
    } finally {
      nowMs = issuedAt;
    }
    const forged = await verify(Buffer.alloc(32, 7).toString('base64url'));
    expect(forged.status).toBe(400);
    expect(forged.body).toMatchObject({ reason: 'invalid' });
    expect((await verify('not-a-token')).status).toBe(400);
    expect((await tp.call('POST', VERIFY, { body: {} })).status).toBe(400);
    // A password reset token is no verification token, even one of this account.
    expect((await tp.call('POST', '/api/v1/auth/password-reset', { body: { email: account.email }, remoteAddress: newAddress() })).status).toBe(202);
    const resetLink = /reset-password#token=([A-Za-z0-9_-]{43})/.exec((await mailTo(smtp, account.email)).text ?? '');
    expect((await verify(resetLink![1]!)).body).toMatchObject({ reason: 'invalid' });
    expect((await me(account.cookie)).emailVerifiedAt).toBeNull();
    // Nothing was used up: the link still works within its day.
    expect((await verify(token)).status).toBe(204);
  });

  it('sends a new link on request, the older one then dead, at most 3 an hour per account and 20 per address', async () => {
    const account = await signUpByApi('resa');
    const first = tokenIn(await mailTo(smtp, account.email));
    const address = newAddress();
    const tokens: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      expect((await tp.call('POST', RESEND, { cookie: account.cookie, remoteAddress: address })).status).toBe(202);
      tokens.push(tokenIn(await mailTo(smtp, account.email)));
    }
    const refused = await tp.call('POST', RESEND, { cookie: account.cookie, remoteAddress: newAddress() });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(new Set([first, ...tokens]).size).toBe(4);
    for (const older of [first, ...tokens.slice(0, -1)]) expect((await verify(older)).body).toMatchObject({ reason: 'invalid' });
    expect((await verify(tokens.at(-1)!)).status).toBe(204);
    expect((await tp.call('POST', RESEND, { cookie: account.cookie })).status).toBe(409);
    expect((await tp.call('POST', RESEND, {})).status).toBe(401);

    // One address asking for many accounts: 20 an hour, then refused whoever asks.
    const shared = newAddress();
    const many = await Promise.all(Array.from({ length: 7 }, (_, i) => signUpByApi(`crowd${i}`)));
    let accepted = 0;
    let lastStatus = 0;
    for (const member of many) {
      for (let i = 0; i < 3; i += 1) {
        lastStatus = (await tp.call('POST', RESEND, { cookie: member.cookie, remoteAddress: shared })).status;
        if (lastStatus === 202) accepted += 1;
      }
    }
    expect(accepted).toBe(20);
    expect(lastStatus).toBe(429);
  });

  it('keeps an unverified account from accepting an invitation, being approved or being made a manager', async () => {
    const account = await signUpByApi('una');
    const token = tokenIn(await mailTo(smtp, account.email));
    const invited = await tp.call('POST', `/api/v1/communities/${communityId}/invitations`, { token: manager.token, body: { email: account.email } });
    expect(invited.status).toBe(201);
    const accept = await tp.call('POST', `/api/v1/invitations/${invited.body.id}/accept`, { cookie: account.cookie });
    expect(accept.status).toBe(403);
    expect(accept.body).toMatchObject({ reason: 'email-unverified', message: expect.stringMatching(/^accepting an invitation/) });
    // Refused, the invitation is still open.
    expect((await tp.call('GET', '/api/v1/me/invitations', { cookie: account.cookie })).body.map((i: { id: string }) => i.id)).toContain(invited.body.id);

    const asked = await tp.call('POST', `/api/v1/communities/${communityId}/join-requests`, { cookie: account.cookie, body: {} });
    expect(asked.status).toBe(201);
    const approve = await tp.call('POST', `/api/v1/members/${asked.body.id}/approve`, { token: manager.token });
    expect(approve.status).toBe(403);
    expect(approve.body).toMatchObject({ reason: 'email-unverified', message: expect.stringMatching(/^approving this person needs their verified email address/) });
    expect((await tp.call('GET', `/api/v1/members/${asked.body.id}`, { token: manager.token })).body.state).toBe('requested');

    expect((await verify(token)).status).toBe(204);
    expect((await tp.call('POST', `/api/v1/members/${asked.body.id}/approve`, { token: manager.token })).status).toBe(200);
    await deliver();
    smtp.received.splice(0, smtp.received.length);

    // Made a manager: refused while the address is unverified (an account verified by no link is set back for the test).
    await tp.platform.db.query('UPDATE users SET email_verified_at = NULL WHERE id = $1', [account.id]);
    const promote = await tp.call('PATCH', `/api/v1/members/${asked.body.id}`, { token: manager.token, body: { role: 'manager' } });
    expect(promote.status).toBe(403);
    expect(promote.body).toMatchObject({ reason: 'email-unverified' });
    expect((await tp.call('GET', `/api/v1/members/${asked.body.id}`, { token: manager.token })).body.role).toBe('member');
  });

  it('verifies an address that signs up through the link of an emailed invitation, not another one', async () => {
    const address = `${unique('invitee')}@example.org`;
    expect((await tp.call('POST', `/api/v1/communities/${communityId}/invitations`, { token: manager.token, body: { email: address } })).status).toBe(201);
    await deliver();
    const link = INVITATION_LINK.exec((await mailTo(smtp, address)).text ?? '');
    expect(link).not.toBeNull();
    const invitationToken = link![1]!;

    // Someone else given the link proves nothing about their own address.
    const other = await signUpByApi('other', { invitationToken });
    expect(other.emailVerifiedAt).toBeNull();
    tokenIn(await mailTo(smtp, other.email));
    const forged = await signUpByApi('forger', { invitationToken: Buffer.alloc(32, 3).toString('base64url') });
    expect(forged.emailVerifiedAt).toBeNull();

    const invitee = await signUpByApi('invitee', { invitationToken, email: address });
    expect(invitee.emailVerifiedAt).not.toBeNull();
    // No verification email: the invitation's was the proof.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(smtp.received.filter((r) => r.to.includes(address))).toEqual([]);
    const [open] = (await tp.call('GET', '/api/v1/me/invitations', { cookie: invitee.cookie })).body as { id: string }[];
    expect((await tp.call('POST', `/api/v1/invitations/${open!.id}/accept`, { cookie: invitee.cookie })).status).toBe(200);
  });

  it('limits re-sending an invitation per invitation and per community per hour, saying why', async () => {
    const invite = (email: string) => tp.call('POST', `/api/v1/communities/${communityId}/invitations`, { token: manager.token, body: { email } });
    const address = `${unique('again')}@example.org`;
    for (let i = 0; i < INVITATION_SEND_LIMITS.perInvitationPerHour; i += 1) expect((await invite(address)).status).toBe(201);
    const refused = await invite(address);
    expect(refused.status).toBe(429);
    expect(refused.body.message).toMatch(/^this invitation was emailed 3 times in the last hour; send it again in \d+ min$/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not held back by it.
    expect((await invite(`${unique('fresh')}@example.org`)).status).toBe(201);

    // The community's re-sends: 20 an hour across its invitations (this test's one re-send above counts among them, and the earlier tests' none).
    const resentSoFar = INVITATION_SEND_LIMITS.perInvitationPerHour - 1;
    let resent = resentSoFar;
    let refusal: { status: number; body: { message: string } } | undefined;
    while (!refusal) {
      const next = `${unique('bulk')}@example.org`;
      expect((await invite(next)).status).toBe(201);
      for (let i = 1; i < INVITATION_SEND_LIMITS.perInvitationPerHour && !refusal; i += 1) {
        const answer = await invite(next);
        if (answer.status === 201) resent += 1;
        else refusal = answer;
      }
    }
    expect(resent).toBe(INVITATION_SEND_LIMITS.resendsPerCommunityPerHour);
    expect(refusal.status).toBe(429);
    expect(refusal.body.message).toMatch(/^this community re-sent 20 invitations in the last hour/);
    // A first invitation is no re-send: still sent.
    expect((await invite(`${unique('first')}@example.org`)).status).toBe(201);
    await deliver();
    smtp.received.splice(0, smtp.received.length);
  });

  it('keeps a person\'s own language and writes their emails in it, whatever their browser says', async () => {
    const account = await signUpByApi('lina', { headers: { 'accept-language': 'en-GB' } });
    expect((await mailTo(smtp, account.email)).headers.get('content-language')).toBe('en');
    const set = await tp.call('PATCH', '/api/v1/me', { cookie: account.cookie, body: { locale: 'de' } });
    expect(set.status).toBe(200);
    expect(set.body.locale).toBe('de');
    // Kept across log-ins.
    const login = await tp.call('POST', '/api/v1/auth/login', { body: { email: account.email, password: account.password } });
    expect((await me(sessionCookie(login))).locale).toBe('de');
    expect((await tp.call('POST', RESEND, { cookie: account.cookie, headers: { 'accept-language': 'en-GB' }, remoteAddress: newAddress() })).status).toBe(202);
    const mail = await mailTo(smtp, account.email);
    expect(mail.headers.get('content-language')).toBe('de');
    expect(mail.subject).toBe('Bestätigen Sie Ihre E-Mail-Adresse');
    // An invitation to the account, from an English-speaking community, is German too.
    expect((await tp.call('POST', `/api/v1/communities/${communityId}/invitations`, { token: manager.token, body: { email: account.email } })).status).toBe(201);
    await deliver();
    expect((await mailTo(smtp, account.email)).headers.get('content-language')).toBe('de');

    for (const bad of [{ locale: 'fr' }, { locale: 'de-AT' }, {}, { locale: 'de', extra: 1 }]) {
      expect((await tp.call('PATCH', '/api/v1/me', { cookie: account.cookie, body: bad })).status).toBe(400);
    }
    expect((await me(account.cookie)).locale).toBe('de');
    expect((await tp.call('PATCH', '/api/v1/me', { cookie: account.cookie, body: { locale: null } })).body.locale).toBeNull();
    expect((await tp.call('PATCH', '/api/v1/me', { body: { locale: 'de' } })).status).toBe(401);
  });
});
