import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { LedgerError } from '../../../src/ledger/domain/index.js';
import { GRIDSHARE_BIN } from '../../support/process.js';

const run = promisify(execFile);

/**
 * A `gridshare verify` process loads the ledger capability's whole module graph through tsx (17 s
 * alone at load 17 on 2 cores), and the tests start several at once. The processes get no
 * deadline of their own (30 s each was exceeded under load): the test's timeout bounds them.
 */
export const CLI_TIMEOUT_MS = 240_000;

/** `gridshare verify` as its own process: its exit status and output. */
export async function verifyCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [GRIDSHARE_BIN, 'verify', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Awaits a check that must be refused: `<reason>: <message>` of the LedgerError it was refused with. */
export async function refusedWith(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(LedgerError);
    return `${(error as LedgerError).reason}: ${(error as Error).message}`;
  }
  throw new Error('expected a refusal');
}
