import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { mailTo, smtpServer, type SmtpSink } from '../support/smtp.js';
import { signUp, startTestPlatform, unique, verifyEmailOf, type TestPlatform, type TestUser } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { confirmedCloseUrl } from '../support/settlements.js';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { NOTIFICATIONS_SENDER_JOB } from '../../src/notifications/index.js';
import { postToLedger } from '../../src/market/service.js';
import { COMMUNITY_ACCOUNTS, walletAccount } from '../../src/market/domain/ledger.js';
import { NOTIFICATION_EVENTS as SERVER_EVENTS } from '../../src/notifications/domain/events.js';
import { NOTIFICATION_EVENTS as CONTRACT_EVENTS } from '@gridshare/contract/notifications';

/**
 * Phase 2 of notifications against a real SMTP server on loopback: events published by the
 * capabilities that own them become one in-app notification and (if wanted) one email each, sent
 * by the sender job under a lease; preferences per event and channel; the manager's delivery log,
 * resending failed emails, and a closed month's statements sent in bulk with their PDFs.
 */
const PUBLIC_URL = 'http://energy.example.org:8080';

describe('the notification events of the contract', () => {
  it('are the server\'s, but for the two that only accounts send (password reset, email verification)', () => {
    expect([...CONTRACT_EVENTS].sort()).toEqual(SERVER_EVENTS.filter((e) => e !== 'password-reset' && e !== 'email-verification').sort());
  });
});

describe.each(platformStoreKinds)('notifications (phase 2) on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let smtp: SmtpSink;
  let nowMs = Date.now();

  beforeAll(async () => {
    smtp = await smtpServer();
    tp = await startTestPlatform(kind, {
      publicUrl: PUBLIC_URL,
      smtp: { host: '127.0.0.1', port: smtp.port, secure: false, requireTls: false, from: 'Gridshare <noreply@energy.example.org>', timeoutMs: 5_000 },
      notifications: { now: () => nowMs },
    });
    w = await buildWorld(tp);
    // The world's own joining (its members were approved) is not what these tests look at.
    await deliver();
    smtp.received.length = 0;
  }, 180_000);
  afterAll(async () => {
    await tp?.close();
    await smtp?.close();
  });

  /** The outbox hands the events to notifications, then the sender sends what is due. */
  const deliver = async () => {
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.jobs.flush(NOTIFICATIONS_SENDER_JOB);
  };
  /** The first mail of `event` to `address`, taken out of the sink (others stay). */
  async function mailOf(address: string, event: string) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const index = smtp.received.findIndex((r) => r.to.includes(address) && r.mail.headers.get('x-gridshare-event') === event);
      if (index >= 0) return smtp.received.splice(index, 1)[0]!.mail;
      if (Date.now() > deadline) throw new Error(`no ${event} mail to ${address}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const notificationsOf = async (user: TestUser, query = '') => {
    const response = await tp.call('GET', `/api/v1/me/notifications${query}`, { token: user.token });
    expect(response.status).toBe(200);
    return response.body as { unread: number; items: { id: string; event: string; params: Record<string, string | number>; link: string | null; readAt: string | null }[] };
  };
  const log = async (communityId: string, query = '') => {
    const response = await tp.call('GET', `/api/v1/communities/${communityId}/deliveries${query}`, { token: w.managerA.token });
    expect(response.status).toBe(200);
    return response.body as { counts: Record<string, number>; deliveries: { id: string; event: string; recipient: string; state: string; attempts: number; lastResponse: string | null; batch: string | null }[] };
  };
  async function joinRequest(user: TestUser): Promise<string> {
    const request = await tp.call('POST', `/api/v1/communities/${w.communityA}/join-requests`, { token: user.token, body: {} });
    expect(request.status).toBe(201);
    return request.body.id as string;
  }

  it('tells a person their request was approved or rejected: in the app and by email, once', async () => {
    const approved = await signUp(tp, 'approved');
    const rejected = await signUp(tp, 'rejected');
    await tp.call('POST', `/api/v1/members/${await joinRequest(approved)}/approve`, { token: w.managerA.token });
    await tp.call('POST', `/api/v1/members/${await joinRequest(rejected)}/reject`, { token: w.managerA.token });
    await deliver();

    const welcome = await mailTo(smtp, approved.email);
    expect(welcome.subject).toMatch(/^Welcome to /);
    expect(welcome.headers.get('x-gridshare-event')).toBe('join-approved');
    expect(welcome.text).toContain(`${PUBLIC_URL}/members/`);
    const refusal = await mailTo(smtp, rejected.email);
    expect(refusal.headers.get('x-gridshare-event')).toBe('join-rejected');

    const mine = await notificationsOf(approved);
    expect(mine.unread).toBe(1);
    expect(mine.items).toEqual([expect.objectContaining({ event: 'join-approved', readAt: null, link: expect.stringMatching(/^\/members\/[0-9a-f-]{36}$/) })]);
    // The outbox running again (a replay) adds nothing.
    await deliver();
    expect((await notificationsOf(approved)).items).toHaveLength(1);
    expect(smtp.received.filter((r) => r.to.includes(approved.email))).toEqual([]);

    // Another user's notification is not found; one's own is marked read once.
    const id = mine.items[0]!.id;
    expect((await tp.call('POST', `/api/v1/me/notifications/${id}/read`, { token: rejected.token })).status).toBe(404);
    expect((await tp.call('POST', `/api/v1/me/notifications/${id}/read`, { token: w.managerA.token })).status).toBe(404);
    expect((await tp.call('POST', '/api/v1/me/notifications/not-a-uuid/read', { token: approved.token })).status).toBe(400);
    expect((await tp.call('POST', `/api/v1/me/notifications/${id}/read`, { token: approved.token })).status).toBe(204);
    const read = await notificationsOf(approved);
    expect(read.unread).toBe(0);
    expect(read.items[0]!.readAt).not.toBeNull();
    expect((await notificationsOf(approved, '?unread=true')).items).toEqual([]);
    expect((await notificationsOf(rejected)).unread).toBe(1);
    expect((await tp.call('POST', '/api/v1/me/notifications/read-all', { token: rejected.token })).status).toBe(204);
    expect((await notificationsOf(rejected)).unread).toBe(0);
  });

  it('holds back email to an address not confirmed yet (the app still tells), but sends its confirmation link, a password reset and an invitation', async () => {
    const email = `${unique('unconfirmed')}@example.org`;
    const signup = await tp.call('POST', '/api/v1/auth/signup', { body: { email, password: 'unconfirmed-password-1', displayName: 'Una Confirmed' } });
    expect(signup.status).toBe(201);
    expect((await mailOf(email, 'email-verification')).text).toContain('/verify-email#token=');
    const token = (await tp.call('POST', '/api/v1/me/tokens', { cookie: String(signup.headers['set-cookie']).split(';')[0], body: { name: 't' } })).body.token as string;
    const una = { id: signup.body.id, email, password: '', token, cookie: '' } as TestUser;

    // Rejected: told in the app, no email queued or sent.
    expect((await tp.call('POST', `/api/v1/members/${await joinRequest(una)}/reject`, { token: w.managerA.token })).status).toBe(200);
    await deliver();
    expect((await notificationsOf(una)).items).toEqual([expect.objectContaining({ event: 'join-rejected', readAt: null })]);
    expect((await log(w.communityA)).deliveries.filter((d) => d.recipient === email)).toEqual([]);
    expect(smtp.received.filter((r) => r.to.includes(email))).toEqual([]);

    // What proves or recovers the address, and an invitation a manager writes to it, still go out.
    expect((await tp.call('POST', '/api/v1/auth/password-reset', { body: { email } })).status).toBe(202);
    expect((await mailOf(email, 'password-reset')).text).toContain('/reset-password#token=');
    expect((await tp.call('POST', `/api/v1/communities/${w.communityA}/invitations`, { token: w.managerA.token, body: { email } })).status).toBe(201);
    await deliver();
    expect((await mailOf(email, 'invitation')).text).toContain(`${PUBLIC_URL}/communities`);
    expect(smtp.received.filter((r) => r.to.includes(email))).toEqual([]);
  });

  it('keeps each person\'s choices per event and channel; security messages cannot be switched off; bad input changes nothing', async () => {
    const user = await signUp(tp, 'chooser');
    const initial = await tp.call('GET', '/api/v1/me/notification-preferences', { token: user.token });
    expect(initial.status).toBe(200);
    expect(initial.body).toContainEqual({ event: 'statement-ready', audience: 'member', switchable: true, email: true, inApp: true });
    expect(initial.body).toContainEqual({ event: 'join-approved', audience: 'member', switchable: false, email: true, inApp: true });
    expect(initial.body.map((p: { event: string }) => p.event)).not.toContain('password-reset');

    const put = (preferences: unknown) => tp.call('PUT', '/api/v1/me/notification-preferences', { token: user.token, body: { preferences } });
    const changed = await put([{ event: 'wallet-low-balance', channel: 'email', enabled: false }, { event: 'statement-ready', channel: 'in-app', enabled: false }]);
    expect(changed.status).toBe(200);
    expect(changed.body).toContainEqual({ event: 'wallet-low-balance', audience: 'member', switchable: true, email: false, inApp: true });
    expect(changed.body).toContainEqual({ event: 'statement-ready', audience: 'member', switchable: true, email: true, inApp: false });

    for (const bad of [
      [{ event: 'no-such-event', channel: 'email', enabled: false }],
      [{ event: 'statement-ready', channel: 'sms', enabled: false }],
      [{ event: 'statement-ready', channel: 'email', enabled: 'no' }],
      [{ event: 'statement-ready', channel: 'email', enabled: false }, { event: 'join-approved', channel: 'email', enabled: false }],
    ]) {
      expect((await put(bad)).status).toBe(400);
    }
    // The refused request with a valid first choice saved nothing.
    expect((await tp.call('GET', '/api/v1/me/notification-preferences', { token: user.token })).body).toEqual(changed.body);
    expect((await tp.call('PUT', '/api/v1/me/notification-preferences', { body: { preferences: [] } })).status).toBe(401);
  });

  it('tells a member whose wallet a posting takes below the community\'s threshold, in the app and (if wanted) by email', async () => {
    const settings = await tp.call('GET', `/api/v1/communities/${w.communityA}/market/settings`, { token: w.managerA.token });
    const { enabled: _e, mechanisms: _m, ...body } = settings.body;
    const put = await tp.call('PUT', `/api/v1/communities/${w.communityA}/market/settings`, { token: w.managerA.token, body: { ...body, lowBalanceThreshold: '10.00' } });
    expect(put.status).toBe(200);
    expect(put.body.lowBalanceThreshold).toBe('10');
    const topUp = await tp.call('POST', `/api/v1/communities/${w.communityA}/market/top-ups`, {
      token: w.managerA.token, body: { memberId: w.memberIdA, amount: '25.00', reference: unique('top-up') },
    });
    expect(topUp.status).toBe(201);
    const spend = (euros: bigint) => tp.platform.events.transaction(tp.platform.db, (tx, publish) => postToLedger(tx, w.communityA, [{
      debit: walletAccount(w.memberIdA), credit: COMMUNITY_ACCOUNTS.clearing, amount: euros * 1_000_000_000n, kind: 'settlement', memo: 'test',
    }, {
      debit: COMMUNITY_ACCOUNTS.clearing, credit: COMMUNITY_ACCOUNTS.topUps, amount: euros * 1_000_000_000n, kind: 'settlement', memo: 'test',
    }], Date.now(), publish));
    await spend(10n); // 15 € left: above the threshold
    await deliver();
    expect((await notificationsOf(w.memberA)).items.filter((n) => n.event === 'wallet-low-balance')).toEqual([]);
    await spend(8n); // 7 €: below
    await spend(1n); // still below: the same fall alerts once
    await deliver();
    const alerts = (await notificationsOf(w.memberA)).items.filter((n) => n.event === 'wallet-low-balance');
    expect(alerts).toEqual([expect.objectContaining({ params: expect.objectContaining({ balance: '7', threshold: '10', currency: 'EUR' }), link: `/members/${w.memberIdA}/market` })]);
    const mail = await mailOf(w.memberA.email, 'wallet-low-balance');
    expect(mail.text).toContain('7.00');

    // memberA2 chose no email about it: the app only.
    await tp.call('PUT', '/api/v1/me/notification-preferences', { token: w.memberA2.token, body: { preferences: [{ event: 'wallet-low-balance', channel: 'email', enabled: false }] } });
    await tp.platform.events.publish(tp.platform.db, 'market.wallet.low-balance', {
      communityId: w.communityA, memberId: w.memberIdA2, balanceNano: '1500000000', thresholdNano: '10000000000', atMs: 1_700_000_000_000,
    });
    // The same event again (a replay): one notification.
    await tp.platform.events.publish(tp.platform.db, 'market.wallet.low-balance', {
      communityId: w.communityA, memberId: w.memberIdA2, balanceNano: '1500000000', thresholdNano: '10000000000', atMs: 1_700_000_000_000,
    });
    await deliver();
    expect((await notificationsOf(w.memberA2)).items.filter((n) => n.event === 'wallet-low-balance')).toHaveLength(1);
    expect(smtp.received.filter((r) => r.to.includes(w.memberA2.email))).toEqual([]);
  });

  it('tells the managers, not the members, of a newly quarantined quarter hour', async () => {
    await tp.platform.events.publish(tp.platform.db, 'intervals.quarantined', {
      communityId: w.communityA, meteringPointId: w.meteringPointA, startsMs: [Date.parse('2026-11-03T10:00:00Z'), Date.parse('2026-11-03T10:15:00Z')],
    });
    await deliver();
    const manager = (await notificationsOf(w.managerA)).items.filter((n) => n.event === 'quarantined-quarter-hour');
    expect(manager).toEqual([expect.objectContaining({ params: expect.objectContaining({ count: 2, quarterHourStartMs: Date.parse('2026-11-03T10:00:00Z') }) })]);
    expect((await notificationsOf(w.memberA)).items.filter((n) => n.event === 'quarantined-quarter-hour')).toEqual([]);
    await mailOf(w.managerA.email, 'quarantined-quarter-hour');
  });

  it('emails a closed month\'s statements with their PDFs, logs each delivery, and sends none twice', async () => {
    const settlement = await tp.call('POST', `/api/v1/communities/${w.communityA}/settlements`, { token: w.managerA.token, body: { period: '2025-10' } });
    expect(settlement.status).toBe(201);
    const bulk = `/api/v1/settlements/${settlement.body.id}/statement-emails`;
    // Not before the month is closed.
    expect((await tp.call('POST', bulk, { token: w.managerA.token })).status).toBe(409);
    expect((await tp.call('POST', await confirmedCloseUrl(tp, w.managerA.token, settlement.body.id), { token: w.managerA.token })).status).toBe(200);
    // Closing issued the statements: each member is told once (statement-ready, PDF attached).
    await deliver();
    const ready = await mailOf(w.memberA.email, 'statement-ready');
    expect(ready.attachments).toHaveLength(1);
    expect(ready.attachments[0]!.contentType).toBe('application/pdf');
    expect(ready.attachments[0]!.content.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect((await notificationsOf(w.memberA)).items.some((n) => n.event === 'statement-ready' && n.params.period === '2025-10')).toBe(true);
    smtp.received.length = 0;

    expect((await tp.call('POST', bulk, { token: w.memberA.token })).status).toBe(403);
    expect((await tp.call('POST', bulk, { token: w.managerB.token })).status).toBe(404);
    // Every statement went out at closing: the bulk send leaves them all out, unless the manager asks to resend.
    const members = (settlement.body.statements as { memberId: string }[]).length;
    const skipped = await tp.call('POST', bulk, { token: w.managerA.token });
    expect(skipped.status).toBe(200);
    expect(skipped.body).toMatchObject({ batch: `statements:${settlement.body.id}`, queued: 0, alreadySent: members });
    await tp.platform.jobs.flush(NOTIFICATIONS_SENDER_JOB);
    expect(smtp.received).toEqual([]);
    expect((await tp.call('POST', `${bulk}?resend=maybe`, { token: w.managerA.token })).status).toBe(400);
    const sent = await tp.call('POST', `${bulk}?resend=true`, { token: w.managerA.token });
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ batch: `statements:${settlement.body.id}`, queued: members, alreadySent: 0 });
    expect((await tp.call('POST', bulk, { token: w.managerA.token })).body).toMatchObject({ queued: 0, alreadySent: members });
    await tp.platform.jobs.flush(NOTIFICATIONS_SENDER_JOB);
    const batch = await log(w.communityA, `?batch=${encodeURIComponent(sent.body.batch)}`);
    expect(batch.counts).toEqual({ queued: 0, sent: members, retrying: 0, failed: 0 });
    expect(batch.deliveries.every((d) => d.state === 'sent' && d.attempts === 1 && d.lastResponse?.startsWith('250'))).toBe(true);
    const again = await mailOf(w.memberA.email, 'statement-ready');
    expect(again.attachments[0]!.content.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(smtp.received.filter((r) => r.to.includes(w.memberA.email))).toEqual([]);
    // Another community's manager sees none of A's log.
    expect((await tp.call('GET', `/api/v1/communities/${w.communityA}/deliveries`, { token: w.managerB.token })).status).toBe(404);
  });

  it('retries a mail server that is down, fails a refused mailbox for good, and resends a failed one on request', async () => {
    const refused = await tp.call('POST', '/api/v1/auth/signup', { body: { email: `nobody@${unique('refused')}.example.org`, password: 'refused-password-1', displayName: 'Nobody' } });
    const token = (await tp.call('POST', '/api/v1/me/tokens', { cookie: String(refused.headers['set-cookie']).split(';')[0], body: { name: 't' } })).body.token as string;
    const nobody = { id: refused.body.id, email: refused.body.email, password: '', token, cookie: '' } as TestUser;
    // Its verification link was refused like every mail to nobody@: verified here, so the manager may approve it.
    await verifyEmailOf(tp, refused.body.id);
    await tp.call('POST', `/api/v1/members/${await joinRequest(nobody)}/approve`, { token: w.managerA.token });
    await deliver();
    const failed = (await log(w.communityA, '?state=failed')).deliveries.find((d) => d.recipient === nobody.email)!;
    expect(failed).toMatchObject({ event: 'join-approved', attempts: 1 });
    expect(failed.lastResponse).toMatch(/^550/);

    // Resending: only a failed one, only by its community's managers.
    expect((await tp.call('POST', `/api/v1/deliveries/${failed.id}/resend`, { token: w.managerB.token })).status).toBe(404);
    expect((await tp.call('POST', `/api/v1/deliveries/${failed.id}/resend`, { token: w.memberA.token })).status).toBe(403);
    const resent = await tp.call('POST', `/api/v1/deliveries/${failed.id}/resend`, { token: w.managerA.token });
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ state: 'queued', attempts: 0 });
    expect((await tp.call('POST', `/api/v1/deliveries/${failed.id}/resend`, { token: w.managerA.token })).status).toBe(409);

    // The mail server down: the delivery waits and is sent once it is back and the retry is due.
    await smtp.close();
    const late = await signUp(tp, 'late');
    await tp.call('POST', `/api/v1/members/${await joinRequest(late)}/approve`, { token: w.managerA.token });
    await deliver();
    const waiting = (await log(w.communityA)).deliveries.find((d) => d.recipient === late.email)!;
    expect(waiting).toMatchObject({ state: 'retrying', attempts: 1 });
    smtp = await smtpServer({}, smtp.port);
    await tp.platform.jobs.flush(NOTIFICATIONS_SENDER_JOB);
    expect((await log(w.communityA)).deliveries.find((d) => d.recipient === late.email)).toMatchObject({ state: 'retrying', attempts: 1 });
    nowMs += 61_000;
    // Two passes at once (as two processes would): the email goes out once.
    await Promise.all([tp.platform.jobs.flush(NOTIFICATIONS_SENDER_JOB), tp.platform.jobs.flush(NOTIFICATIONS_SENDER_JOB)]);
    expect((await log(w.communityA)).deliveries.find((d) => d.recipient === late.email)).toMatchObject({ state: 'sent', attempts: 2 });
    await mailTo(smtp, late.email);
    expect(smtp.received.filter((r) => r.to.includes(late.email))).toEqual([]);
  });
});
