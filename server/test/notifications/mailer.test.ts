import { createServer } from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import PDFDocument from 'pdfkit';
import { createMailer, smtpConfigFromEnv, SmtpSettingError, type SmtpConfig } from '../../src/notifications/mailer.js';
import { renderEmail, type Recipient } from '../../src/notifications/domain/render.js';
import { afterAttempt, queued } from '../../src/notifications/domain/delivery.js';
import { BadRequestError } from '../../src/kernel/errors.js';
import { SAMPLE } from './samples.js';
import { smtpServer, type SmtpSink } from '../support/smtp.js';

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, 'close');
  return port;
}

async function pdf(): Promise<Buffer> {
  const doc = new PDFDocument();
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  doc.text('Rechnung SUN-2026-00042');
  doc.end();
  await once(doc, 'end');
  return Buffer.concat(chunks);
}

const anna: Recipient = { name: 'Anna Müller', email: 'anna@example.org', locale: 'de-AT', timeZone: 'Europe/Vienna', role: 'member' };
const config = (port: number, extra: Partial<SmtpConfig> = {}): SmtpConfig =>
  ({ host: '127.0.0.1', port, secure: false, requireTls: false, from: 'EEG Sonnenstraße <noreply@sonnenstrasse.example>', timeoutMs: 5_000, ...extra });

describe('email over a real SMTP server on loopback', () => {
  let smtp: SmtpSink;
  beforeAll(async () => {
    smtp = await smtpServer();
  });
  afterAll(() => smtp.close());

  it('sends a statement in the member\'s language with its PDF attached', async () => {
    const content = await pdf();
    const email = renderEmail('statement-ready', anna, { ...SAMPLE['statement-ready'], pdf: { filename: 'SUN-2026-00042.pdf', content } });
    const mailer = createMailer(config(smtp.port));
    const outcome = await mailer.send(email);
    mailer.close();
    expect(outcome).toMatchObject({ kind: 'sent', response: expect.stringMatching(/^250/) });
    const [message] = smtp.received.splice(0);
    expect(message!.from).toBe('noreply@sonnenstrasse.example');
    expect(message!.to).toEqual(['anna@example.org']);
    const mail = message!.mail;
    expect(mail.subject).toBe('Ihre Abrechnung für Oktober 2026 (SUN-2026-00042)');
    expect(mail.headers.get('content-language')).toBe('de');
    expect(mail.headers.get('x-gridshare-event')).toBe('statement-ready');
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value[0] : undefined).toEqual({ name: 'Anna Müller', address: 'anna@example.org' });
    expect(mail.text).toContain('Zu zahlen: €\u00a01.234,56, bis 17. November 2026.');
    expect(mail.html).toContain('<a href="https://gridshare.example/statements/42"');
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0]).toMatchObject({ filename: 'SUN-2026-00042.pdf', contentType: 'application/pdf' });
    expect(Buffer.compare(mail.attachments[0]!.content, content)).toBe(0);
    expect(outcome.kind === 'sent' && outcome.messageId).toBe(mail.messageId);
  });

  it('records a mailbox the server refuses as a permanent failure, and the next message still goes out', async () => {
    const mailer = createMailer(config(smtp.port));
    const refused = await mailer.send(renderEmail('password-reset', { ...anna, email: 'nobody@example.org', locale: 'en' }, SAMPLE['password-reset']));
    expect(refused).toMatchObject({ kind: 'permanent', response: expect.stringContaining('550') });
    const entry = queued({ id: 'd1', event: 'password-reset', recipient: 'nobody@example.org', language: 'en', subject: 'Reset', queuedAtMs: 0 });
    expect(afterAttempt(entry, refused, 0)).toMatchObject({ state: 'failed', attempts: 1 });
    const next = await mailer.send(renderEmail('email-verification', { ...anna, locale: 'en' }, SAMPLE['email-verification']));
    mailer.close();
    expect(next.kind).toBe('sent');
    const [message] = smtp.received.splice(0);
    expect(message!.mail.subject).toBe('Confirm your email address');
    expect(message!.mail.headers.get('content-language')).toBe('en');
    expect(message!.mail.text).toContain('https://gridshare.example/verify#t=abc');
    expect(() => renderEmail('email-verification', { ...anna, email: 'anna@@example.org' }, SAMPLE['email-verification'])).toThrow(BadRequestError);
  });

  it('retries while the SMTP server is down and delivers once it is back', async () => {
    const port = await freePort();
    const mailer = createMailer(config(port));
    const email = renderEmail('payment-failed', anna, SAMPLE['payment-failed']);
    let entry = queued({ id: 'd2', event: email.event, recipient: email.to.address, language: email.language, subject: email.subject, queuedAtMs: 1_000 });
    const down = await mailer.send(email);
    expect(down).toMatchObject({ kind: 'temporary', response: expect.stringContaining('ECONNREFUSED') });
    entry = afterAttempt(entry, down, 1_000);
    expect(entry).toMatchObject({ state: 'retrying', attempts: 1, nextAttemptAtMs: 61_000 });
    const back = await smtpServer({}, port);
    try {
      entry = afterAttempt(entry, await mailer.send(email), entry.nextAttemptAtMs!);
      expect(entry).toMatchObject({ state: 'sent', attempts: 2 });
      expect(back.received.map((r) => r.mail.subject)).toEqual(['Zahlung fehlgeschlagen: SUN-2026-00042']);
    } finally {
      mailer.close();
      await back.close();
    }
  });

  it('authenticates where the server asks, and a wrong password is a permanent failure', async () => {
    const guarded = await smtpServer({
      authOptional: false,
      allowInsecureAuth: true,
      onAuth(auth, _session, callback) {
        if (auth.username === 'gridshare' && auth.password === 'correct horse') callback(null, { user: 'gridshare' });
        else callback(Object.assign(new Error('5.7.8 bad credentials'), { responseCode: 535 }));
      },
    });
    try {
      const email = renderEmail('join-approved', anna, SAMPLE['join-approved']);
      const wrong = createMailer(config(guarded.port, { auth: { user: 'gridshare', pass: 'wrong' } }));
      expect(await wrong.send(email)).toMatchObject({ kind: 'permanent', response: expect.stringContaining('535') });
      wrong.close();
      const right = createMailer(config(guarded.port, { auth: { user: 'gridshare', pass: 'correct horse' } }));
      expect((await right.send(email)).kind).toBe('sent');
      right.close();
      expect(guarded.received).toHaveLength(1);
    } finally {
      await guarded.close();
    }
  });

  it('refuses to send in the clear where TLS is required', async () => {
    const mailer = createMailer(config(smtp.port, { requireTls: true }));
    const outcome = await mailer.send(renderEmail('join-approved', anna, SAMPLE['join-approved']));
    // The server offers no STARTTLS: nodemailer asks for it anyway and stops when it is refused.
    expect(outcome).toMatchObject({ kind: 'permanent', response: expect.stringMatching(/^5\d\d /) });
    mailer.close();
    expect(smtp.received).toHaveLength(0);
  });
});

describe('SMTP configuration', () => {
  it('reads SMTP_URL and SMTP_FROM, requiring TLS off loopback', () => {
    expect(smtpConfigFromEnv({})).toBeUndefined();
    expect(smtpConfigFromEnv({ SMTP_URL: 'smtp://mailer%40x:p%3Ass@mail.example.org', SMTP_FROM: 'EEG <noreply@example.org>' })).toEqual({
      host: 'mail.example.org', port: 587, secure: false, requireTls: true, auth: { user: 'mailer@x', pass: 'p:ss' }, from: 'EEG <noreply@example.org>',
    });
    expect(smtpConfigFromEnv({ SMTP_URL: 'smtps://mail.example.org', SMTP_FROM: 'noreply@example.org' })).toMatchObject({ port: 465, secure: true, requireTls: false });
    expect(smtpConfigFromEnv({ SMTP_URL: 'smtp://127.0.0.1:2525', SMTP_FROM: 'noreply@example.org' })).toMatchObject({ port: 2525, requireTls: false });
    expect(smtpConfigFromEnv({ SMTP_URL: 'smtp://relay:25', SMTP_FROM: 'noreply@example.org', SMTP_REQUIRE_TLS: 'false' })).toMatchObject({ requireTls: false });
    expect(smtpConfigFromEnv({ SMTP_URL: 'smtp://relay:25', SMTP_FROM: 'noreply@example.org', SMTP_REQUIRE_TLS: 'true' })).toMatchObject({ requireTls: true });
  });

  it.each([
    [{ SMTP_URL: 'not-a-url' }, 'SMTP_URL', /^SMTP_URL is not a URL .*; for example SMTP_URL=smtp:\/\/user:password@mail\.example\.org:587/],
    [{ SMTP_URL: 'smtp://mail.example.org:notaport' }, 'SMTP_URL', /port from 1 to 65535/],
    [{ SMTP_URL: 'smtp://mail.example.org:65536' }, 'SMTP_URL', /port from 1 to 65535/],
    [{ SMTP_URL: 'smtp://mail.example.org:0' }, 'SMTP_URL', /port 0/],
    [{ SMTP_URL: 'http://mail.example.org' }, 'SMTP_URL', /must start with smtp:\/\/ or smtps:\/\/, not http:/],
    [{ SMTP_URL: 'smtp://' }, 'SMTP_URL', /names no mail server host/],
    [{ SMTP_URL: 'smtp:mail.example.org' }, 'SMTP_URL', /names no mail server host/],
    [{ SMTP_URL: 'smtp://mailer:p%zz@mail.example.org' }, 'SMTP_URL', /write % as %25/],
    [{ SMTP_FROM: undefined }, 'SMTP_FROM', /^SMTP_FROM is not set.*; for example SMTP_FROM="Community Energy <noreply@example\.org>"$/],
    [{ SMTP_FROM: 'EEG <not an address>' }, 'SMTP_FROM', /holds no valid email address/],
    [{ SMTP_REQUIRE_TLS: 'yes' }, 'SMTP_REQUIRE_TLS', /must be true or false/],
  ])('refuses %o, naming the variable and a good value', (setting, variable, message) => {
    const env = { SMTP_URL: 'smtp://mailer:secret-word@mail.example.org', SMTP_FROM: 'noreply@example.org', ...setting };
    let thrown: unknown;
    try {
      smtpConfigFromEnv(env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SmtpSettingError);
    const error = thrown as SmtpSettingError;
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(message);
    // SMTP_URL may hold a password: the message never repeats a value.
    expect(error.message).not.toContain('secret-word');
    expect(error.message).not.toContain('p%zz');
  });
});
