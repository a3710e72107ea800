import type { LightMyRequestResponse } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform, type Platform, type PlatformOptions } from '../../src/platform/compose.js';
import { BOOTSTRAP_ADMIN_EMAIL, createUser } from '../../src/accounts/service.js';
import { markEmailVerified } from '../../src/accounts/store.js';
import { createMigratedTestDatabase, type TestDatabase } from './stores.js';
import type { StoreConfig } from '../../src/platform/store/db.js';

export interface TestPlatform {
  readonly platform: Platform;
  readonly artefactsDir: string;
  /** Admin credentials after the one-time password was replaced. */
  readonly admin: { email: string; password: string; token: string };
  /** A mail server is configured: sign-ups must verify their address (accounts/email-verification.ts). */
  readonly emailOn: boolean;
  call(method: string, url: string, options?: CallOptions): Promise<CallResult>;
  close(): Promise<void>;
}

export interface CallOptions {
  token?: string | undefined;
  cookie?: string | undefined;
  body?: unknown;
  /** Sent as is, for malformed-input tests. */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  /** The caller's address (default 127.0.0.1), for per-address limits. */
  remoteAddress?: string;
}

export interface CallResult {
  status: number;
  body: any;
  headers: LightMyRequestResponse['headers'];
  raw: LightMyRequestResponse;
}

export const ADMIN_PASSWORD = 'admin-password-for-tests';

/**
 * A whole platform on an empty database of the given kind, on free ports, driven through inject().
 * Given a `database` (a restart: a test platform may have used it before), the platform starts on
 * it and leaves it to the caller when it closes.
 */
export async function startTestPlatform(
  kind: StoreConfig['kind'],
  overrides: Partial<Pick<PlatformOptions, 'loginRateLimit' | 'loginAddressRateLimit' | 'signupRateLimit' | 'liveRecheckMs' | 'publicUrl' | 'sessionIdleMs' | 'secretKeys' | 'quotas' | 'deviceConnectLimit' | 'forecast' | 'privacy' | 'market' | 'optimise' | 'control' | 'flex' | 'log' | 'logger' | 'externalMqtt' | 'jobs' | 'admin' | 'smtp' | 'passwordReset' | 'demo' | 'notifications' | 'billing' | 'deviceOffline'>> & { dataDir?: string; database?: TestDatabase } = {},
): Promise<TestPlatform> {
  const database = overrides.database ?? await createMigratedTestDatabase(kind, overrides.dataDir);
  const artefactsDir = mkdtempSync(join(tmpdir(), 'gridshare-artefacts-'));
  const platform = await startPlatform({
    store: database.config,
    artefactsDir,
    http: { port: 0, host: '127.0.0.1', explicit: true },
    mqtt: { port: 0, host: '127.0.0.1', explicit: true },
    loginRateLimit: overrides.loginRateLimit ?? { max: 10_000, windowMs: 60_000 },
    loginAddressRateLimit: overrides.loginAddressRateLimit ?? { max: 10_000, windowMs: 60_000 },
    signupRateLimit: overrides.signupRateLimit ?? { max: 10_000, windowMs: 60_000 },
    // Tests create many communities and batches per account; the quota tests set their limits through the admin API.
    quotas: overrides.quotas ?? { communitiesPerUser: 1_000, devicesPerCommunity: 1_000_000, batchesPerHour: 1_000 },
    ...(overrides.liveRecheckMs ? { liveRecheckMs: overrides.liveRecheckMs } : {}),
    ...(overrides.publicUrl ? { publicUrl: overrides.publicUrl } : {}),
    ...(overrides.sessionIdleMs ? { sessionIdleMs: overrides.sessionIdleMs } : {}),
    ...(overrides.secretKeys ? { secretKeys: overrides.secretKeys } : {}),
    ...(overrides.deviceConnectLimit ? { deviceConnectLimit: overrides.deviceConnectLimit } : {}),
    ...(overrides.privacy ? { privacy: overrides.privacy } : {}),
    // The forecast job runs when a test flushes it: a pass 30 s into every other test file would only add load.
    forecast: overrides.forecast ?? { delayMs: 600_000 },
    ...(overrides.market ? { market: overrides.market } : {}),
    // Likewise the plans: a test that wants one flushes the job or asks the service.
    optimise: overrides.optimise ?? { delayMs: 600_000 },
    ...(overrides.control ? { control: overrides.control } : {}),
    ...(overrides.flex ? { flex: overrides.flex } : {}),
    ...(overrides.log ? { log: overrides.log } : {}),
    ...(overrides.logger ? { logger: overrides.logger } : {}),
    ...(overrides.externalMqtt ? { externalMqtt: overrides.externalMqtt } : {}),
    ...(overrides.jobs ? { jobs: overrides.jobs } : {}),
    ...(overrides.admin ? { admin: overrides.admin } : {}),
    ...(overrides.demo ? { demo: true } : {}),
    ...(overrides.smtp ? { smtp: overrides.smtp } : {}),
    ...(overrides.notifications ? { notifications: overrides.notifications } : {}),
    ...(overrides.billing ? { billing: overrides.billing } : {}),
    ...(overrides.deviceOffline ? { deviceOffline: overrides.deviceOffline } : {}),
    passwordReset: {
      perEmail: { max: 10_000, windowMs: 60_000 },
      perAddress: { max: 10_000, windowMs: 60_000 },
      ...overrides.passwordReset,
    },
  });

  async function call(method: string, url: string, options: CallOptions = {}): Promise<CallResult> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.cookie) headers.cookie = options.cookie;
    let payload: string | Buffer | undefined;
    if (options.rawBody !== undefined) payload = options.rawBody;
    else if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const raw = await platform.app.inject({
      method: method as 'GET', url, headers, ...(payload !== undefined ? { payload } : {}), ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
    });
    let body: unknown = raw.body;
    if (String(raw.headers['content-type'] ?? '').includes('application/json')) body = raw.json();
    return { status: raw.statusCode, body, headers: raw.headers, raw };
  }

  // A database a test platform started on before has its admin already, with the tests' password.
  const bootstrap = platform.bootstrapAdmin;
  const adminEmail = bootstrap?.email ?? BOOTSTRAP_ADMIN_EMAIL;
  const login = await call('POST', '/api/v1/auth/login', { body: { email: adminEmail, password: bootstrap?.password ?? ADMIN_PASSWORD } });
  const cookie = sessionCookie(login);
  if (bootstrap) await call('POST', '/api/v1/me/password', { cookie, body: { currentPassword: bootstrap.password, newPassword: ADMIN_PASSWORD } });
  const token = await call('POST', '/api/v1/me/tokens', { cookie, body: { name: 'tests' } });

  return {
    platform,
    artefactsDir,
    admin: { email: adminEmail, password: ADMIN_PASSWORD, token: token.body.token },
    emailOn: overrides.smtp !== undefined,
    call,
    async close() {
      await platform.close();
      if (!overrides.database) await database.drop();
      rmSync(artefactsDir, { recursive: true, force: true });
    },
  };
}

/** Marks an account made through the sign-up route verified, as if it had opened its emailed link (tests about something else). */
export async function verifyEmailOf(tp: TestPlatform, userId: string): Promise<void> {
  await markEmailVerified(tp.platform.db, userId);
}

/** The `name=value` of the session cookie a response set. */
export function sessionCookie(response: CallResult): string {
  const header = response.headers['set-cookie'];
  const cookies = Array.isArray(header) ? header : header ? [header] : [];
  const session = cookies.find((c) => c.startsWith('gs_session='));
  if (!session) throw new Error(`no session cookie in response ${response.status}`);
  return session.split(';')[0]!;
}

let counter = 0;
/** Unique per test process, so parallel files and repeated cases never collide. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${process.pid}X${counter}`;
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  token: string;
  cookie: string;
}

export async function signUp(tp: TestPlatform, name: string): Promise<TestUser> {
  const email = `${unique(name)}@example.org`;
  const password = `pw-${name}-long-enough`;
  // With email on, a sign-up would wait for its verification link (and its email would reach the
  // tests' mail sink): the account is made verified through accounts instead, and logs in.
  if (tp.emailOn) await createUser(tp.platform.db, { email, password, displayName: name, emailVerified: true });
  const response = tp.emailOn
    ? await tp.call('POST', '/api/v1/auth/login', { body: { email, password } })
    : await tp.call('POST', '/api/v1/auth/signup', { body: { email, password, displayName: name } });
  if (response.status !== (tp.emailOn ? 200 : 201)) throw new Error(`signup failed: ${response.status} ${JSON.stringify(response.body)}`);
  const cookie = sessionCookie(response);
  const token = await tp.call('POST', '/api/v1/me/tokens', { cookie, body: { name: 'test' } });
  return { id: response.body.id, email, password, token: token.body.token, cookie };
}
