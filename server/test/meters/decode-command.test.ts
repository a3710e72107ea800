import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { GRIDSHARE_BIN } from '../support/process.js';
import { VECTORS_DIR } from './vectors.js';
import { dsmrTelegramAt } from './telegrams.js';

const run = promisify(execFile);

async function decode(args: string[], input?: Buffer): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = run(process.execPath, [GRIDSHARE_BIN, 'decode', ...args], { timeout: 20_000 });
  if (input) {
    child.child.stdin!.end(input);
  }
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('gridshare decode (separate process)', () => {
  it('prints the normalised readings of a telegram read from stdin', async () => {
    const at = new Date('2026-11-20T09:00:00Z');
    const result = await decode(['--format', 'dsmr', '-'], dsmrTelegramAt(at, 12_345));
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as { format: string; readings: { quantity: string; value: number; ts: string }[] };
    expect(json.format).toBe('dsmr');
    expect(json.readings.find((r) => r.quantity === 'energy.import.t1')).toMatchObject({ value: 12_345, ts: at.toISOString() });
  });

  it('refuses a wrong checksum with exit code 2 unless --ignore-crc, and an unknown format', async () => {
    const file = `${VECTORS_DIR}dsmr-5.0.2-spec-example-athombv.txt`;
    // The vector file carries a header; strip it the way a user would not need to: send only the telegram.
    const telegram = (await import('node:fs')).readFileSync(file, 'latin1').split('# ---- data below this line ----\n')[1]!.replace(/\n/g, '\r\n');
    const refused = await decode(['-'], Buffer.from(telegram, 'latin1'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error: crc: CRC-16 EF2F sent, E47C computed/);
    const forced = await decode(['--ignore-crc', '-'], Buffer.from(telegram, 'latin1'));
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout).readings.length).toBeGreaterThan(10);
    const unknown = await decode(['--format', 'nope', '-'], Buffer.from(telegram, 'latin1'));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--format is one of auto, dsmr/);
  });
});
