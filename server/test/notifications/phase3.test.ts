import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { smtpServer, type SmtpSink } from '../support/smtp.js';
import { signUp, startTestPlatform, unique, type TestPlatform, type TestUser } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { confirmedCloseUrl } from '../support/settlements.js';
import { Q, storeIntervals } from '../sharing/support/stored.js';
import { monthRange } from '../../src/kernel/calendar.js';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { NOTIFICATIONS_SENDER_JOB } from '../../src/notifications/index.js';
import { PAYMENT_REMINDER_JOB } from '../../src/billing/index.js';
import { DEVICE_OFFLINE_JOB } from '../../src/ingest/index.js';

/**
 * What the notifications of phase 2 left out, against a real SMTP server on loopback: the email
 * of an invitation (to an address with or without an account), the reminder of an invoice past
 * its due date and unpaid (once per invoice, none for a paid one or a credit), and a device silent
 * longer than the community's threshold (once per outage, again after it came back and fell silent).
 */
const PUBLIC_URL = 'http://energy.example.org:8080';
const DAY = 86_400_000;

/** Two past months, October before November, both ended whenever the test runs. */
function pastMonths(): [string, string] {
  const now = new Date();
  const year = now.getUTCMonth() >= 11 ? now.getUTCFullYear() : now.getUTCFullYear() - 1;
  return [`${year}-10`, `${year}-11`];
}

const profile = {
  legalName: 'Sonnenhof Energiegemeinschaft eGen',
  address: { street: 'Hauptplatz 1', postalCode: '8010', city: 'Graz', country: 'AT' },
  vat: { country: 'AT', regime: 'small-business' },
  bank: { iban: 'AT61 1904 3002 3457 3201', bic: 'BKAUATWW' },
  invoicePrefix: 'SUN-',
  paymentTermDays: 14,
};
const details = (fullName: string) => ({ fullName, address: { street: 'Feldweg 3', postalCode: '8020', city: 'Graz', country: 'AT' }, vat: { regime: 'private' } });

describe.each(platformStoreKinds)('notifications (phase 3) on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let smtp: SmtpSink;
  let billingNowMs = Date.now();
  let offlineNowMs = Date.now();

  beforeAll(async () => {
    smtp = await smtpServer();
    tp = await startTestPlatform(kind, {
      publicUrl: PUBLIC_URL,
      smtp: { host: '127.0.0.1', port: smtp.port, secure: false, requireTls: false, from: 'Gridshare <noreply@energy.example.org>', timeoutMs: 5_000 },
      billing: { now: () => billingNowMs },
      deviceOffline: { now: () => offlineNowMs },
    });
    w = await buildWorld(tp);
    await deliver();
    smtp.received.length = 0;
  }, 180_000);
  afterAll(async () => {
    await tp?.close();
    await smtp?.close();
  });

  const deliver = async () => {
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.jobs.flush(NOTIFICATIONS_SENDER_JOB);
  };
  /** The mails of `event` to `address` the sink received, taken out of it (after the sender ran: no waiting). */
  const mailsOf = (address: string, event: string) => {
    const taken = smtp.received.filter((r) => r.to.includes(address) && r.mail.headers.get('x-gridshare-event') === event);
    smtp.received.splice(0, smtp.received.length, ...smtp.received.filter((r) => !taken.includes(r)));
    return taken.map((r) => r.mail);
  };
  const notificationsOf = async (user: TestUser) => {
    const response = await tp.call('GET', '/api/v1/me/notifications', { token: user.token });
    expect(response.status).toBe(200);
    return (response.body as { items: { event: string; params: Record<string, string | number>; link: string | null }[] }).items;
  };
  const invite = async (email: string) => {
    const response = await tp.call('POST', `/api/v1/communities/${w.communityA}/invitations`, { token: w.managerA.token, body: { email } });
    expect(response.status).toBe(201);
    return response.body.id as string;
  };

  it('emails an invited address with the link to accept, whether or not it has an account; an account is told in the app too', async () => {
    const stranger = `${unique('invitee')}@example.org`;
    await invite(stranger);
    const known = await signUp(tp, 'known');
    await invite(known.email);
    await deliver();

    const [toStranger, ...more] = mailsOf(stranger, 'invitation');
    expect(more).toEqual([]);
    expect(toStranger!.subject).toMatch(/^Invitation to join Community A/);
    expect(toStranger!.text).toContain('managerA');
    // No account yet: the link signs up, its token proving the address received the invitation.
    expect(toStranger!.text).toMatch(new RegExp(`${PUBLIC_URL}/signup#invitation=[A-Za-z0-9_-]{43}`));
    expect(mailsOf(known.email, 'invitation')).toHaveLength(1);
    expect((await notificationsOf(known)).filter((n) => n.event === 'invitation')).toEqual([
      expect.objectContaining({ params: expect.objectContaining({ inviterName: 'managerA' }), link: '/communities' }),
    ]);
    // The outbox again (a replay): nothing more.
    await deliver();
    expect(mailsOf(stranger, 'invitation')).toEqual([]);
    expect((await notificationsOf(known)).filter((n) => n.event === 'invitation')).toHaveLength(1);

    // An invitation withdrawn by the time its event is handled is not emailed.
    const withdrawn = `${unique('withdrawn')}@example.org`;
    const id = await invite(withdrawn);
    await deliver();
    expect(mailsOf(withdrawn, 'invitation')).toHaveLength(1);
    expect((await tp.call('DELETE', `/api/v1/invitations/${id}`, { token: w.managerA.token })).status).toBe(204);
    await tp.platform.events.publish(tp.platform.db, 'invitation.sent', { communityId: w.communityA, invitationId: id, signupToken: 'replayed', atMs: Date.now() + 1 });
    await deliver();
    expect(mailsOf(withdrawn, 'invitation')).toEqual([]);
  });

  it('reminds a member once of an invoice past its due date and unpaid; not of a paid one, nor of a credit', async () => {
    const [october, november] = pastMonths();
    await tp.call('DELETE', `/api/v1/tariffs/${w.tariffA}`, { token: w.managerA.token });
    expect((await tp.call('POST', `/api/v1/communities/${w.communityA}/tariffs`, {
      token: w.managerA.token, body: { name: 'Founding', gridPrice: '0.30', communityPrice: '0.15', feedInPrice: '0.07', validFrom: '2000-01-01' },
    })).status).toBe(201);
    // A exports (is owed a credit), A2 imports (owes).
    for (const period of [october, november]) {
      const { startMs } = monthRange(period, 'Europe/Vienna')!;
      await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA, Object.fromEntries(Array.from({ length: 96 }, (_, t) => [startMs + t * Q, { importWh: 0, exportWh: 400 }])));
      await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, Object.fromEntries(Array.from({ length: 96 }, (_, t) => [startMs + t * Q, { importWh: 250, exportWh: 0 }])));
    }
    await tp.platform.sharing.flush();
    expect((await tp.call('PUT', `/api/v1/communities/${w.communityA}/billing-profile`, { token: w.managerA.token, body: profile })).status).toBe(200);
    expect((await tp.call('PUT', `/api/v1/members/${w.memberIdA}/billing-details`, { token: w.memberA.token, body: details('Anna Berger') })).status).toBe(200);
    expect((await tp.call('PUT', `/api/v1/members/${w.memberIdA2}/billing-details`, { token: w.memberA2.token, body: details('Jürgen Müller') })).status).toBe(200);
    const invoices: Record<string, { invoiceId: string; memberId: string; number: string; gross: string }[]> = {};
    for (const period of [october, november]) {
      const settlement = await tp.call('POST', `/api/v1/communities/${w.communityA}/settlements`, { token: w.managerA.token, body: { period } });
      expect(settlement.status).toBe(201);
      const closed = await tp.call('POST', await confirmedCloseUrl(tp, w.managerA.token, settlement.body.id), { token: w.managerA.token });
      expect(closed.status, JSON.stringify(closed.body)).toBe(200);
      invoices[period] = (await tp.call('GET', `/api/v1/settlements/${settlement.body.id}/payments`, { token: w.managerA.token })).body;
    }
    const owed = (period: string) => invoices[period]!.find((i) => i.memberId === w.memberIdA2)!;
    expect(invoices[october]!.find((i) => i.memberId === w.memberIdA)!.gross).toMatch(/^-/);
    expect(owed(october).gross).not.toMatch(/^-/);
    await deliver();
    smtp.received.length = 0;

    // Not due yet: no reminder.
    await tp.platform.jobs.flush(PAYMENT_REMINDER_JOB);
    await deliver();
    expect(mailsOf(w.memberA2.email, 'payment-due')).toEqual([]);

    // October's is paid; then both due dates pass.
    expect((await tp.call('PUT', `/api/v1/invoices/${owed(october).invoiceId}/payment`, { token: w.managerA.token, body: { status: 'paid' } })).status).toBe(200);
    billingNowMs = Date.now() + 16 * DAY;
    await tp.platform.jobs.flush(PAYMENT_REMINDER_JOB);
    await deliver();
    const [reminder, ...others] = mailsOf(w.memberA2.email, 'payment-due');
    expect(others).toEqual([]);
    expect(reminder!.subject).toBe(`Payment reminder: ${owed(november).number}`);
    expect(reminder!.text).toContain(`${PUBLIC_URL}/members/${w.memberIdA2}/statements`);
    expect(mailsOf(w.memberA.email, 'payment-due')).toEqual([]);
    expect((await notificationsOf(w.memberA2)).filter((n) => n.event === 'payment-due')).toEqual([
      expect.objectContaining({ params: expect.objectContaining({ invoiceNumber: owed(november).number, currency: 'EUR' }) }),
    ]);

    // A later pass (or another process) reminds no one again.
    billingNowMs += DAY;
    await Promise.all([tp.platform.jobs.flush(PAYMENT_REMINDER_JOB), tp.platform.jobs.flush(PAYMENT_REMINDER_JOB)]);
    await deliver();
    expect(mailsOf(w.memberA2.email, 'payment-due')).toEqual([]);
    expect((await notificationsOf(w.memberA2)).filter((n) => n.event === 'payment-due')).toHaveLength(1);
  });

  it('tells a device\'s member once per outage when it sent nothing for longer than the community\'s threshold', async () => {
    const community = `/api/v1/communities/${w.communityA}`;
    for (const bad of [0, -5, 43_201, 1.5, '30']) {
      expect((await tp.call('PATCH', community, { token: w.managerA.token, body: { deviceOfflineMinutes: bad } })).status, String(bad)).toBe(400);
    }
    expect((await tp.call('PATCH', community, { token: w.memberA.token, body: { deviceOfflineMinutes: 30 } })).status).toBe(403);
    const set = await tp.call('PATCH', community, { token: w.managerA.token, body: { deviceOfflineMinutes: 30 } });
    expect(set.status).toBe(200);
    expect(set.body.deviceOfflineMinutes).toBe(30);

    // Reader A (on memberA's site) last sent at t0, as ingestion records a message.
    const t0 = Date.now() - 10 * 60_000;
    const seen = (atMs: number) => tp.platform.db.query(
      `INSERT INTO device_state (device_id, community_id, last_seen_at) VALUES ($1, $2, $3)
       ON CONFLICT (device_id, community_id) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at`, [w.deviceA, w.communityA, new Date(atMs)]);
    await seen(t0);
    const pass = async (atMs: number) => {
      offlineNowMs = atMs;
      await tp.platform.jobs.flush(DEVICE_OFFLINE_JOB);
      await deliver();
    };
    const offline = async (user: TestUser) => (await notificationsOf(user)).filter((n) => n.event === 'device-offline');

    await pass(t0 + 29 * 60_000);
    expect(mailsOf(w.memberA.email, 'device-offline')).toEqual([]);
    await pass(t0 + 31 * 60_000);
    const [mail, ...more] = mailsOf(w.memberA.email, 'device-offline');
    expect(more).toEqual([]);
    expect(mail!.subject).toMatch(/^Reader A has been offline since /);
    expect(mail!.text).toContain('30 minutes');
    expect(mail!.text).toContain(`${PUBLIC_URL}/members/${w.memberIdA}/devices`);
    expect(await offline(w.memberA)).toEqual([expect.objectContaining({ params: expect.objectContaining({ deviceName: 'Reader A', sinceMs: t0 }), link: `/members/${w.memberIdA}/devices` })]);
    expect(await offline(w.memberA2)).toEqual([]);
    expect(await offline(w.managerA)).toEqual([]);

    // Still silent: told once.
    await Promise.all([pass(t0 + 120 * 60_000), pass(t0 + 120 * 60_000)]);
    expect(mailsOf(w.memberA.email, 'device-offline')).toEqual([]);
    // It sent again, then fell silent again: a new outage, told once more.
    await seen(t0 + 130 * 60_000);
    await pass(t0 + 150 * 60_000);
    expect(mailsOf(w.memberA.email, 'device-offline')).toEqual([]);
    await pass(t0 + 161 * 60_000);
    expect(mailsOf(w.memberA.email, 'device-offline')).toHaveLength(1);
    expect(await offline(w.memberA)).toHaveLength(2);

    // Without a threshold no one is told.
    expect((await tp.call('PATCH', community, { token: w.managerA.token, body: { deviceOfflineMinutes: null } })).body.deviceOfflineMinutes).toBeNull();
    await seen(t0 + 170 * 60_000);
    await pass(t0 + 1_000 * 60_000);
    expect(mailsOf(w.memberA.email, 'device-offline')).toEqual([]);
  });
});
