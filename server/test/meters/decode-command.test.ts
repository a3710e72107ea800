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
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/Allowed choices are auto, dsmr, smarty, dlms, sml, mbus, d0/);
  });

  it('reads the shared vector files as they are: header lines skipped, a DSMR telegram with LF line ends summed over CR LF', async () => {
    const dsmr = await decode([`${VECTORS_DIR}dsmr-v5-ndokter.txt`]);
    expect(dsmr.code).toBe(0);
    expect(dsmr.stderr).toMatch(/line ends were made CR LF/);
    expect(JSON.parse(dsmr.stdout).readings.length).toBeGreaterThan(5);
    const mbus = await decode(['--key', '36C66639E48A8CA4D6BC8B282A793BBB', `${VECTORS_DIR}at-netznoe-evn-kaifa-mbus.hex`]);
    expect(mbus.code).toBe(0);
    expect(JSON.parse(mbus.stdout).readings.length).toBeGreaterThan(2);
    // A wrong CRC stays wrong whatever the line ends, and the message says both were tried.
    const wrong = await decode([`${VECTORS_DIR}dsmr-5.0.2-spec-example-athombv.txt`]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^error: crc: CRC-16 EF2F sent, E47C computed \(with the line ends made CR LF, as DSMR needs; with LF alone: /);
  });

  it('lists every format, D0 included, in its help', async () => {
    const help = await decode(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/D0/);
    expect(help.stdout.replace(/\s+/g, ' ')).toMatch(/choices: "auto", "dsmr", "smarty", "dlms", "sml", "mbus", "d0"/);
  });
});
