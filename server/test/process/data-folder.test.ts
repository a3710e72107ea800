import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminToken, callJson, freePort, GRIDSHARE_BIN, waitForHealth, type RunningGridshare } from '../support/process.js';

const root = mkdtempSync(join(tmpdir(), 'gridshare-data-folder-'));
const started: RunningGridshare[] = [];
afterAll(() => {
  for (const running of started) if (running.child.exitCode === null) running.child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** The exit code, or 'still running' (and the process killed) after `ms`. */
const exitWithin = (running: RunningGridshare, ms = 60_000) => Promise.race([
  running.exited,
  new Promise<string>((resolve) => setTimeout(() => resolve('still running'), ms).unref()),
]);

/** `gridshare start` under umask 000, the most permissive a user could have set. */
function startUnderOpenUmask(args: string[]): RunningGridshare {
  const child = spawn('sh', ['-c', `umask 000 && exec "${process.execPath}" "${GRIDSHARE_BIN}" "$@"`, 'sh', 'start', '--host', '127.0.0.1', ...args], {
    env: { ...process.env, DATABASE_URL: '' }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += String(chunk)));
  child.stderr.on('data', (chunk) => (output += String(chunk)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  started.push({ child, baseUrl: '', output: () => output, exited });
  return { child, baseUrl: `http://127.0.0.1:${args[args.indexOf('--port') + 1]}`, output: () => output, exited };
}

/** Every path under `dir` with its mode, size and modification time. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (path: string) => {
    const stat = statSync(path);
    out.set(path, `${(stat.mode & 0o777).toString(8)} ${stat.isDirectory() ? 'dir' : `${stat.size} ${stat.mtimeMs}`}`);
    if (stat.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return out;
}

describe('the data folder of the embedded database', () => {
  it('is locked by one process: a second start changes nothing, a stale lock after kill -9 is recovered, and everything written is private', async () => {
    const data = join(root, 'data');
    const ports = async () => ['--port', String(await freePort()), '--mqtt-port', String(await freePort())];
    const firstPorts = await ports();
    const first = startUnderOpenUmask([...firstPorts, '--data', data]);
    await waitForHealth(first);

    // Writes through the first process: an account, a community, a provisioned batch (its ZIP holds device keys).
    const token = await adminToken(first, 'data-folder-admin');
    const community = await callJson(first.baseUrl, 'POST', '/api/v1/communities', { token, body: { name: 'Locked Street', timeZone: 'Europe/Vienna', currency: 'EUR' } });
    expect(community.status).toBe(201);
    const batch = await callJson(first.baseUrl, 'POST', `/api/v1/communities/${community.body.id}/device-batches`, { token, body: { count: 3 } });
    expect(batch.status).toBe(201);

    // A second start on the same folder, with ports of its own and with the first one's: it names the
    // holder, exits, and leaves every file as it was. The first process is paused meanwhile, since its
    // jobs write on their own (the ledger's pass every minute), and alive, so its lock still holds.
    process.kill(first.child.pid!, 'SIGSTOP');
    const before = snapshot(data);
    for (const args of [await ports(), firstPorts]) {
      const second = startUnderOpenUmask([...args, '--data', data]);
      expect(await exitWithin(second), second.output()).toBe(2);
      expect(second.output()).toMatch(new RegExp(`data folder .* is in use by Gridshare process ${first.child.pid}`));
      expect(second.output()).not.toMatch(/Gridshare is running|port .* already in use/);
    }
    expect(snapshot(data)).toEqual(before);
    process.kill(first.child.pid!, 'SIGCONT');

    // Ports are checked before the store is opened: a start that cannot have its port creates no database.
    const elsewhere = join(root, 'elsewhere');
    const taken = startUnderOpenUmask([firstPorts[0]!, firstPorts[1]!, '--mqtt-port', String(await freePort()), '--data', elsewhere]);
    expect(await exitWithin(taken), taken.output()).toBe(2);
    expect(taken.output()).toMatch(/HTTP port \d+ is already in use/);
    expect(existsSync(join(elsewhere, 'PG_VERSION'))).toBe(false);

    // kill -9 leaves the lock behind; the next start finds its holder gone, takes it and opens the database intact.
    first.child.kill('SIGKILL');
    await first.exited;
    expect(existsSync(join(data, 'gridshare.lock'))).toBe(true);
    const restarted = startUnderOpenUmask([...(await ports()), '--data', data]);
    await waitForHealth(restarted);
    expect(restarted.output()).toMatch(/stale lock of Gridshare process \d+ .*taken over/);
    expect(restarted.output()).not.toMatch(/Aborted\(\)/);
    const communities = await callJson(restarted.baseUrl, 'GET', '/api/v1/communities', { token });
    expect(communities.body.map((c: { id: string }) => c.id)).toContain(community.body.id);

    // Private to the user whatever the umask: the folder 0700, every file and folder in it without group or other bits.
    expect(statSync(data).mode & 0o777).toBe(0o700);
    const open = [...snapshot(data)].filter(([path]) => (statSync(path).mode & 0o077) !== 0).map(([path, mode]) => `${path} ${mode}`);
    expect(open).toEqual([]);
    expect(statSync(join(data, 'artefacts', `${batch.body.id}.zip`)).mode & 0o777).toBe(0o600);
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toBe(0);
    expect(existsSync(join(data, 'gridshare.lock'))).toBe(false);
  }, 180_000);
});
