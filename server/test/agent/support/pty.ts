import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** socat (Debian package `socat`) links two pseudo-terminals: the meter's end and the agent's. */
export const socatMissing = spawnSync('socat', ['-V']).error !== undefined;
if (socatMissing) process.stderr.write('agent tests: socat not found (apt-get install socat): the serial-line tests are skipped\n');

export interface PtyPair {
  /** The end the meter (the test) writes to. */
  readonly meterPath: string;
  /** The end the agent opens, as it would /dev/ttyUSB0. */
  readonly agentPath: string;
  close(): Promise<void>;
}

export async function ptyPair(): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'gridshare-pty-'));
  const meterPath = join(dir, 'meter');
  const agentPath = join(dir, 'agent');
  const socat: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${meterPath}`, `pty,raw,echo=0,link=${agentPath}`], { stdio: 'ignore' });
  const deadline = Date.now() + 5_000;
  while (!(existsSync(meterPath) && existsSync(agentPath))) {
    if (Date.now() > deadline) throw new Error('socat did not create the pseudo-terminals');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    meterPath,
    agentPath,
    async close() {
      const exited = new Promise((resolve) => socat.once('exit', resolve));
      socat.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
