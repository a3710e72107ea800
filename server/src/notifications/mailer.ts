import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { BadRequestError } from '../kernel/errors.js';
import { checkEmailAddress, type RenderedEmail } from './domain/render.js';
import { classifySmtpFailure, type AttemptOutcome } from './domain/delivery.js';

/**
 * Email over the SMTP server the operator configures, with nodemailer: implicit TLS
 * (`smtps://`, port 465) or STARTTLS (required with `requireTls`, the default for a non-loopback
 * server), optional authentication, one "From" for the installation. One attempt per call; what
 * happened comes back as an AttemptOutcome for the delivery log, never as a thrown error.
 */
export interface SmtpConfig {
  readonly host: string;
  readonly port: number;
  /** Implicit TLS from the first byte (port 465). */
  readonly secure: boolean;
  /** Refuse to send unless the server upgrades to TLS with STARTTLS. */
  readonly requireTls: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
  /** `Community Energy <noreply@example.org>`. */
  readonly from: string;
  /** PEM of a private CA the server's certificate is signed by. */
  readonly ca?: string;
  readonly timeoutMs?: number;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[?::1\]?)$/;

/**
 * `SMTP_URL` (`smtp://user:pass@mail.example.org:587`, `smtps://…:465`) and `SMTP_FROM`, plus
 * `SMTP_REQUIRE_TLS=false` to allow plain SMTP to a relay that is not on this machine.
 * Undefined when no `SMTP_URL` is set: email is then off, and says so where it is needed.
 */
export function smtpConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SmtpConfig | undefined {
  const text = env.SMTP_URL;
  if (!text) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new BadRequestError('SMTP_URL is not a URL (smtp://user:pass@host:587 or smtps://host:465)', 'SMTP_URL');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new BadRequestError(`SMTP_URL must be smtp:// or smtps://, not ${url.protocol}//`, 'SMTP_URL');
  const secure = url.protocol === 'smtps:';
  const port = url.port ? Number(url.port) : secure ? 465 : 587;
  const from = env.SMTP_FROM ?? '';
  const address = /<([^>]+)>\s*$/.exec(from)?.[1] ?? from;
  checkEmailAddress(address.trim());
  const requireTls = env.SMTP_REQUIRE_TLS === undefined ? !secure && !LOOPBACK.test(url.hostname) : env.SMTP_REQUIRE_TLS !== 'false';
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    secure,
    requireTls,
    ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
    from,
  };
}

export interface Mailer {
  send(email: RenderedEmail): Promise<AttemptOutcome>;
  close(): void;
}

export function createMailer(config: SmtpConfig): Mailer {
  const timeout = config.timeoutMs ?? 30_000;
  const options: SMTPTransport.Options = {
    host: config.host,
    port: config.port,
    secure: config.secure,
    requireTLS: config.requireTls,
    ...(config.auth ? { auth: { user: config.auth.user, pass: config.auth.pass } } : {}),
    ...(config.ca ? { tls: { ca: config.ca } } : {}),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    // One connection per message: a job sends a period's statements in sequence, and a pooled
    // connection the server has closed in between would fail the next message for no reason.
    pool: false,
  };
  const transport = nodemailer.createTransport(options);
  return {
    async send(email) {
      try {
        const info = await transport.sendMail({
          from: config.from,
          to: { name: email.to.name, address: email.to.address },
          subject: email.subject,
          text: email.text,
          html: email.html,
          headers: { 'Content-Language': email.language, 'X-Gridshare-Event': email.event },
          attachments: email.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: Buffer.from(a.content) })),
        });
        if (info.rejected.length > 0) return { kind: 'permanent', response: info.response };
        return { kind: 'sent', messageId: info.messageId, response: info.response };
      } catch (error) {
        const failure = error as Error & { code?: string; responseCode?: number; response?: string };
        return { kind: classifySmtpFailure(failure), response: failure.response ?? `${failure.code ?? 'error'}: ${failure.message}` };
      }
    },
    close() {
      transport.close();
    },
  };
}
