import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { freePort, GRIDSHARE_BIN, runGridshare, waitForHealth } from '../support/process.js';
import { createTestDatabase, postgresUrl } from '../support/stores.js';
import { listen, PortInUseError } from '../../src/platform/net/listen.js';
import { camt053 } from '../billing/sepa/camt-fixture.js';

function occupy(port: number) {
  const server = createServer();
  return new Promise<typeof server>((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

describe('the gridshare command', () => {
  // The suite's first process start compiles the command's TypeScript cold: three at once, and
  // time for that on a loaded 2-core machine (one CI run took over 30 s for the three in turn).
  it('prints help for the program and for start', async () => {
    const [help, startHelp, secretsHelp] = [runGridshare(['--help']), runGridshare(['start', '--help']), runGridshare(['secrets', 'rotate', '--help'])];
    expect(await help.exited).toBe(0);
    expect(help.output()).toMatch(/Usage: gridshare/);
    expect(help.output()).toMatch(/start/);
    expect(await startHelp.exited).toBe(0);
    expect(startHelp.output()).toMatch(/--mqtt-port <port>/);
    expect(startHelp.output()).toMatch(/--demo/);
    expect(startHelp.output()).toMatch(/--secret-key-file <file>/);
    expect(await secretsHelp.exited).toBe(0);
    expect(secretsHelp.output()).toMatch(/GRIDSHARE_SECRET_KEY=<new>,<old>/);
  }, 90_000);

  it('checks a SEPA file against the vendored ISO 20022 schema when no directory is given', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'gridshare-sepa-'));
    try {
      const statement = camt053('08', [{ direction: 'CRDT', amount: '11.56', bookingDate: '2026-11-17' }]);
      writeFileSync(join(folder, 'good.xml'), statement);
      writeFileSync(join(folder, 'bad.xml'), statement.replace(/<Sts>\s*<Cd>BOOK<\/Cd>\s*<\/Sts>/, '<Sts>BOOK</Sts>'));
      // Three processes at once: each spends seconds starting tsx.
      const check = (file: string, schemas: string) => runGridshare(['sepa', 'check', join(folder, file)], { SEPA_XSD_DIR: schemas });
      const [good, bad, elsewhere] = [check('good.xml', ''), check('bad.xml', ''), check('good.xml', folder)];
      expect(await good.exited, good.output()).toBe(0);
      expect(good.output()).toBe('camt.053.001.08: valid, 1 transactions; booked credits 11.56, booked debits 0.00, not booked entries 0\n');
      expect(await bad.exited).toBe(2);
      expect(bad.output()).toMatch(/^error: not valid against camt\.053\.001\.08 \(line \d+\): .*Sts/);
      expect(await elsewhere.exited).toBe(1);
      expect(elsewhere.output()).toBe(`error: no camt.053.001.08.xsd in ${folder}\n`);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses a bad port value', async () => {
    const bad = runGridshare(['start', '--port', 'eighty']);
    expect(await bad.exited).not.toBe(0);
    expect(bad.output()).toMatch(/whole number/);
  });

  it.each([['--port', 'HTTP'], ['--mqtt-port', 'MQTT']])('says clearly when the chosen %s is taken', async (flag, what) => {
    const taken = await freePort();
    const blocker = await occupy(taken);
    try {
      const other = flag === '--port' ? '--mqtt-port' : '--port';
      const running = runGridshare(['start', '--host', '127.0.0.1', flag, String(taken), other, String(await freePort()), '--data', '/tmp/gridshare-unused']);
      expect(await running.exited).toBe(2);
      expect(running.output()).toContain(`${what} port ${taken} is already in use`);
      expect(running.output()).toContain(flag);
    } finally {
      blocker.close();
    }
  }, 60_000);

  it.each([
    ['not-a-url', /^gridshare: SMTP_URL is not a URL with a host and, if given, a port from 1 to 65535; for example SMTP_URL=smtp:\/\/user:password@mail\.example\.org:587/],
    ['smtp://user:secret-word@mail.example.org:notaport', /^gridshare: SMTP_URL is not a URL .*port from 1 to 65535; for example SMTP_URL=smtp:\/\//],
    ['https://mail.example.org', /^gridshare: SMTP_URL must start with smtp:\/\/ or smtps:\/\/, not https:; for example SMTP_URL=/],
  ])('refuses SMTP_URL=%s in one line, exit code 2, before opening anything', async (value, line) => {
    const dataDir = join(tmpdir(), `gridshare-smtp-${process.pid}-${Date.now()}`);
    const running = runGridshare(['start', '--host', '127.0.0.1', '--port', String(await freePort()), '--mqtt-port', String(await freePort()), '--data', dataDir],
      { SMTP_URL: value, SMTP_FROM: 'noreply@example.org' });
    expect(await running.exited, running.output()).toBe(2);
    const lines = running.output().trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(line);
    expect(running.output()).not.toMatch(/\bat .*\.ts:\d+|Error:/);
    // The URL may hold a password: the line never repeats it.
    expect(running.output()).not.toContain('secret-word');
    expect(existsSync(dataDir)).toBe(false);
  }, 60_000);

  it.each([
    ['energy.example.org', /an http or https URL, e\.g\. https:\/\/energy\.example\.org/],
    ['ftp://energy.example.org', /an http or https URL, not ftp:/],
    ['https://energy.example.org/?community=1', /no credentials, query or fragment/],
  ])('refuses --public-url %s before listening or opening the data folder', async (value, reason) => {
    const dataDir = join(tmpdir(), `gridshare-public-url-${process.pid}-${Date.now()}`);
    const running = runGridshare(['start', '--host', '127.0.0.1', '--port', String(await freePort()), '--mqtt-port', String(await freePort()), '--data', dataDir, '--public-url', value]);
    expect(await running.exited, running.output()).not.toBe(0);
    expect(running.output()).toContain('--public-url');
    expect(running.output()).toMatch(reason);
    expect(running.output()).not.toMatch(/listening|http:\/\/127\.0\.0\.1/);
    expect(existsSync(dataDir)).toBe(false);
  }, 60_000);

  it('refuses SMTP_URL without SMTP_FROM, naming SMTP_FROM', async () => {
    const running = runGridshare(['start', '--host', '127.0.0.1', '--port', String(await freePort()), '--mqtt-port', String(await freePort()), '--data', '/tmp/gridshare-unused'],
      { SMTP_URL: 'smtp://mail.example.org:587', SMTP_FROM: '' });
    expect(await running.exited, running.output()).toBe(2);
    expect(running.output()).toMatch(/^gridshare: SMTP_FROM is not set, .*; for example SMTP_FROM="Community Energy <noreply@example\.org>"\n$/);
  }, 60_000);

  it('stops with the shell that started it when told to (npm start: a SIGTERM to npm ends only its shell)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gridshare-parent-'));
    const port = await freePort();
    const start = [GRIDSHARE_BIN, 'start', '--host', '127.0.0.1', '--port', String(port), '--mqtt-port', String(await freePort()), '--data', dataDir, '--exit-with-parent'];
    // `; true` keeps the shell from replacing itself with the command, as npm's `a && b` scripts do.
    const shell = spawn('sh', ['-c', `"$0" "$@"; true`, process.execPath, ...start], { env: { ...process.env, DATABASE_URL: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    shell.stdout.on('data', (chunk) => (output += String(chunk)));
    shell.stderr.on('data', (chunk) => (output += String(chunk)));
    const running = { child: shell, baseUrl: `http://127.0.0.1:${port}`, output: () => output, exited: new Promise<number | null>((resolve) => shell.once('exit', resolve)) };
    const answers = () => fetch(`${running.baseUrl}/health`).then((response) => response.ok, () => false);
    try {
      await waitForHealth(running);
      shell.kill('SIGTERM');
      const deadline = Date.now() + 15_000;
      let stopped = false;
      while (!stopped && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        stopped = !(await answers());
      }
      expect(stopped).toBe(true);
    } finally {
      shell.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it.skipIf(!postgresUrl)('runs on a PostgreSQL server given by DATABASE_URL', async () => {
    const database = await createTestDatabase('postgres');
    if (database.config.kind !== 'postgres') throw new Error('unexpected');
    // With a PostgreSQL server the data folder still holds the master key file (and the artefacts).
    const dataDir = mkdtempSync(join(tmpdir(), 'gridshare-pg-data-'));
    const running = runGridshare(['start', '--host', '127.0.0.1', '--port', String(await freePort()), '--mqtt-port', String(await freePort()), '--demo', '--data', dataDir],
      { DATABASE_URL: database.config.url });
    try {
      await waitForHealth(running);
      const health = await (await fetch(`${running.baseUrl}/health`)).json();
      expect(health).toEqual({ status: 'ok', database: { status: 'ok', kind: 'postgres' }, broker: { status: 'ok', mode: 'embedded' } });
      const communities = (await (await fetch(`${running.baseUrl}/api/v1/communities?q=Sunny`)).json()) as { name: string; memberCount: number }[];
      // Thirty households and the library; the manager, who holds only the community battery, is not counted.
      expect(communities).toEqual([expect.objectContaining({ name: 'Sunny Street', memberCount: 31 })]);
      expect(running.output()).toMatch(/member01@sunny-street\.demo/);
      expect(statSync(join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
      expect(running.output()).toContain(`from the key file ${join(dataDir, 'secret.key')} (created now`);
    } finally {
      running.child.kill('SIGTERM');
      await running.exited;
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('port binding', () => {
  it('moves a default port that is taken, and refuses a chosen one', async () => {
    const taken = await freePort();
    const blocker = await occupy(taken);
    const server = createServer();
    try {
      const moved = await listen(server, { port: taken, host: '127.0.0.1', explicit: false, what: 'MQTT', flag: '--mqtt-port' });
      expect(moved.movedFrom).toBe(taken);
      expect(moved.port).not.toBe(taken);
      server.close();
      await expect(listen(createServer(), { port: taken, host: '127.0.0.1', explicit: true, what: 'MQTT', flag: '--mqtt-port' }))
        .rejects.toBeInstanceOf(PortInUseError);
    } finally {
      blocker.close();
    }
  });
});
