import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const RECOMMENDED_CONF = resolve(dirname(fileURLToPath(import.meta.url)), '../../../deploy/mosquitto/mosquitto.conf');
const DYNSEC_PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';

/** Why the second-broker tests cannot run here, or undefined when they can. */
export const mosquittoMissing: string | undefined = (() => {
  for (const tool of ['mosquitto', 'mosquitto_ctrl']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt-get install mosquitto mosquitto-clients)`;
  }
  return undefined;
})();

export interface TestMosquitto {
  readonly url: string;
  readonly port: number;
  readonly admin: { username: string; password: string };
  /** Stops the broker (SIGTERM: it saves its store) and starts it again on the same port and files. */
  restart(): Promise<void>;
  /** What the broker logged so far (for a failing test's message). */
  output(): string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/**
 * The repository's recommended configuration, run here: on a loopback port, with its store and
 * the plugin's file in a folder of the test's own. `changes` replace settings (e.g. a smaller queue).
 */
export function adaptedConf(dir: string, port: number, changes: Record<string, string> = {}): string {
  const settings: Record<string, string> = {
    listener: `${port} 127.0.0.1`,
    plugin: DYNSEC_PLUGIN,
    plugin_opt_config_file: join(dir, 'dynamic-security.json'),
    persistence_location: `${dir}/`,
    ...changes,
  };
  const lines = readFileSync(RECOMMENDED_CONF, 'utf8').split('\n').map((line) => {
    const name = /^([a-z_]+)\s/.exec(line)?.[1];
    return name && name in settings ? `${name} ${settings[name]}` : line;
  });
  // Run as root, Mosquitto would switch to the user "mosquitto", who may not write the test's folder.
  if (userInfo().uid === 0) lines.push('user root');
  return lines.join('\n');
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${log()}`);
    const open = await new Promise<boolean>((done) => {
      const socket = createServer().listen(port, '127.0.0.1');
      socket.on('listening', () => socket.close(() => done(false)));
      socket.on('error', () => done(true));
    });
    if (open) return;
    await new Promise((done) => setTimeout(done, 50));
  }
  throw new Error(`mosquitto did not listen on ${port}: ${log()}`);
}

export async function startMosquitto(changes: Record<string, string> = {}): Promise<TestMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'gridshare-mosquitto-'));
  const port = await freePort();
  const admin = { username: 'gridshare-admin', password: randomBytes(12).toString('hex') };
  const init = spawnSync('mosquitto_ctrl', ['dynsec', 'init', join(dir, 'dynamic-security.json'), admin.username, admin.password], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`mosquitto_ctrl dynsec init: ${init.stderr}`);
  const confPath = join(dir, 'mosquitto.conf');
  writeFileSync(confPath, adaptedConf(dir, port, changes));
  let child: ChildProcess;
  let output = '';
  const launch = async () => {
    child = spawn('mosquitto', ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    await waitForPort(port, child, () => output);
  };
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await exited;
  };
  await launch();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    admin,
    output: () => output,
    restart: async () => {
      await stop();
      await launch();
    },
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
