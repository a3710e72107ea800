import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
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

const SMTP_URL_EXAMPLE = 'SMTP_URL=smtp://user:password@mail.example.org:587 (STARTTLS) or SMTP_URL=smtps://mail.example.org:465';
const SMTP_FROM_EXAMPLE = 'SMTP_FROM="Community Energy <noreply@example.org>"';

/**
 * A mail setting the process cannot start with: one line naming the variable, what is wrong with
 * it and a good value. The value itself is never repeated, since `SMTP_URL` may hold a password.
 */
export class SmtpSettingError extends Error {
  constructor(readonly variable: 'SMTP_URL' | 'SMTP_FROM' | 'SMTP_REQUIRE_TLS', problem: string, example: string) {
    super(`${variable} ${problem}; for example ${example}`);
  }
}

function parseSmtpUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SmtpSettingError('SMTP_URL', 'is not a URL with a host and, if given, a port from 1 to 65535', SMTP_URL_EXAMPLE);
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new SmtpSettingError('SMTP_URL', `must start with smtp:// or smtps://, not ${url.protocol}`, SMTP_URL_EXAMPLE);
  // `smtp:mail` and `smtp://` parse (the scheme is not one URL parsers know) but name no server.
  if (!url.hostname) throw new SmtpSettingError('SMTP_URL', 'names no mail server host', SMTP_URL_EXAMPLE);
  if (url.port === '0') throw new SmtpSettingError('SMTP_URL', 'has port 0, a port is from 1 to 65535', SMTP_URL_EXAMPLE);
  return url;
}

/**
 * `SMTP_URL` (`smtp://user:pass@mail.example.org:587`, `smtps://…:465`) and `SMTP_FROM`, plus
 * `SMTP_REQUIRE_TLS=false` to allow plain SMTP to a relay that is not on this machine.
 * Undefined when no `SMTP_URL` is set: email is then off, and says so where it is needed.
 * A setting that is wrong throws SmtpSettingError.
 */
export function smtpConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SmtpConfig | undefined {
  const text = env.SMTP_URL;
  if (!text) return undefined;
  const url = parseSmtpUrl(text);
  const secure = url.protocol === 'smtps:';
  const port = url.port ? Number(url.port) : secure ? 465 : 587;
  const from = env.SMTP_FROM ?? '';
  if (!from.trim()) throw new SmtpSettingError('SMTP_FROM', 'is not set, and email (SMTP_URL) needs the address it is sent from', SMTP_FROM_EXAMPLE);
  const address = /<([^>]+)>\s*$/.exec(from)?.[1] ?? from;
  try {
    checkEmailAddress(address.trim());
  } catch {
    throw new SmtpSettingError('SMTP_FROM', 'holds no valid email address', SMTP_FROM_EXAMPLE);
  }
  const requireTlsSetting = env.SMTP_REQUIRE_TLS;
  if (requireTlsSetting !== undefined && requireTlsSetting !== 'true' && requireTlsSetting !== 'false') {
    throw new SmtpSettingError('SMTP_REQUIRE_TLS', 'must be true or false', 'SMTP_REQUIRE_TLS=false for a plain relay on another machine');
  }
  const requireTls = requireTlsSetting === undefined ? !secure && !LOOPBACK.test(url.hostname) : requireTlsSetting === 'true';
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    secure,
    requireTls,
    ...(url.username ? { auth: credentialsOf(url) } : {}),
    from,
  };
}

function credentialsOf(url: URL): { user: string; pass: string } {
  try {
    return { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) };
  } catch {
    throw new SmtpSettingError('SMTP_URL', 'has a user or password with a % not followed by two hex digits (write % as %25)', SMTP_URL_EXAMPLE);
  }
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
