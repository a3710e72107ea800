import { expect } from 'vitest';
import { LedgerError } from '../../../src/ledger/domain/index.js';

/** Runs something that must be refused, and returns the LedgerError it was refused with. */
export function refusal(run: () => unknown): LedgerError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(LedgerError);
    return error as LedgerError;
  }
  throw new Error('expected a refusal');
}
