import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LedgerError, LogAuditor, openCheckpoint, parseReceipt, formatReceiptTlogProof, signerKeyFromSeed, tilesForConsistencyProof,
  consistencyProofFromTiles, verifierFromKey, verifierKeyOf, verifyConsistency, verifyReceipt,
} from '../../src/ledger/domain/index.js';
import { MemoryLog } from './support/memory-log.js';

const logKey = signerKeyFromSeed('ledger.property.example', new Uint8Array(32).fill(11));
const logVerifier = verifierFromKey(verifierKeyOf(logKey));

/** Appends entries in the batches that the cut points give (as a store commits them). */
function logOf(entries: readonly Uint8Array[], cuts: readonly number[] = []): MemoryLog {
  const log = new MemoryLog(logKey);
  const bounds = [...new Set([0, ...cuts.map((c) => c % (entries.length + 1)), entries.length])].sort((a, b) => a - b);
  for (let i = 1; i < bounds.length; i++) log.append(entries.slice(bounds[i - 1], bounds[i]));
  return log;
}

const entriesArb = (max: number) => fc.array(fc.uint8Array({ minLength: 0, maxLength: 24 }), { minLength: 2, maxLength: max });

describe('an append-only log (property)', () => {
  it('every prefix checkpoint is consistent with every later checkpoint', () => {
    fc.assert(
      fc.property(entriesArb(600), fc.array(fc.nat(), { maxLength: 6 }), fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 12 }), (entries, cuts, pairs) => {
        const log = logOf(entries, cuts);
        const n = log.size;
        // Small logs: every pair; larger ones: the drawn pairs plus the edges.
        const chosen = n <= 24
          ? Array.from({ length: n }, (_, a) => Array.from({ length: n - a }, (_, d) => [a + 1, a + 1 + d] as const)).flat()
          : [...pairs.map(([a, b]) => [1 + (Math.min(a, b) % n), 1 + (Math.max(a, b) % n)] as const), [1, n] as const, [n - 1, n] as const, [256, n] as const].filter(([a, b]) => a <= b && b <= n);
        for (const [oldSize, newSize] of chosen) {
          const older = openCheckpoint(log.checkpoint(oldSize), logVerifier).checkpoint;
          const newer = openCheckpoint(log.checkpoint(newSize), logVerifier).checkpoint;
          const proof = consistencyProofFromTiles(oldSize, newSize, log.tiles);
          expect(tilesForConsistencyProof(oldSize, newSize).length).toBeLessThanOrEqual(4);
          verifyConsistency(older.size, newer.size, proof, older.rootHash, newer.rootHash);
          if (oldSize < newSize) {
            // The same proof does not vouch for a different old root (a forked history).
            const forked = log.root(oldSize).map((b, i) => (i === 31 ? b ^ 0x80 : b));
            expect(() => verifyConsistency(oldSize, newSize, proof, forked, newer.rootHash)).toThrow(LedgerError);
          }
        }
      }),
      { numRuns: 30 },
    );
  });

  type Tamper = { kind: 'change'; at: number; byte: number } | { kind: 'remove'; at: number } | { kind: 'reorder'; at: number; with: number } | { kind: 'insert'; at: number };
  const tamperArb: fc.Arbitrary<Tamper> = fc.oneof(
    fc.record({ kind: fc.constant('change' as const), at: fc.nat(), byte: fc.nat() }),
    fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('reorder' as const), at: fc.nat(), with: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat() }),
  );

  /** The stored entries after the tampering, and the first index whose stored entry differs. */
  function tamper(entries: readonly Uint8Array[], t: Tamper): { stored: Uint8Array[]; first: number } {
    const stored = entries.map((e) => e.slice());
    const at = t.at % entries.length;
    switch (t.kind) {
      case 'change': {
        const entry = stored[at]!;
        if (entry.length === 0) stored[at] = new Uint8Array([1]);
        else entry[t.byte % entry.length] = entry[t.byte % entry.length]! ^ 0x01;
        return { stored, first: at };
      }
      case 'remove':
        stored.splice(at, 1);
        return { stored, first: at };
      case 'insert':
        stored.splice(at, 0, new Uint8Array([0xde, 0xad]));
        return { stored, first: at };
      case 'reorder': {
        const other = (at + 1 + (t.with % (entries.length - 1))) % entries.length;
        [stored[at], stored[other]] = [stored[other]!, stored[at]!];
        return { stored, first: Math.min(at, other) };
      }
    }
  }

  it('changing, removing, inserting or reordering any stored entry is detected', () => {
    const unique = fc.uniqueArray(fc.uint8Array({ minLength: 0, maxLength: 16 }), { minLength: 2, maxLength: 400, selector: (e) => Buffer.from(e).toString('hex') });
    fc.assert(
      fc.property(unique, tamperArb, fc.array(fc.nat(), { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 5 }), (entries, t, published, batches) => {
        const log = logOf(entries);
        const checkpoints = [...new Set([...published.map((p) => p % (entries.length + 1)), entries.length])]
          .map((size) => openCheckpoint(log.checkpoint(size), logVerifier).checkpoint);

        const honest = new LedgerAuditRun(checkpoints, entries, batches);
        expect(honest.report.mismatches).toEqual([]);
        expect(honest.report.beyondStoredLog).toEqual([]);

        const { stored, first } = tamper(entries, t);
        const audit = new LedgerAuditRun(checkpoints, stored, batches).report;
        expect(audit.mismatches.length + audit.beyondStoredLog.length).toBeGreaterThan(0);
        // Every checkpoint covering the first altered position is flagged; those before it are not.
        for (const cp of checkpoints) {
          const flagged = audit.mismatches.some((m) => m.size === cp.size) || audit.beyondStoredLog.some((b) => b.size === cp.size);
          expect(flagged, `checkpoint ${cp.size}, first change at ${first}`).toBe(cp.size > first);
        }

        // The member's receipt for the altered position no longer verifies with the stored entry.
        if (first < stored.length) {
          const receipt = log.receipt(first);
          const forged = parseReceipt(new TextEncoder().encode(formatReceiptTlogProof({ ...receipt, entry: stored[first]! })));
          expect(() => verifyReceipt(forged, logVerifier)).toThrow(LedgerError);
        }
      }),
      { numRuns: 60 },
    );
  });
});

/** Feeds the stored entries to the auditor in the drawn batch sizes, as a store would stream them. */
class LedgerAuditRun {
  readonly report;

  constructor(checkpoints: ConstructorParameters<typeof LogAuditor>[0], stored: readonly Uint8Array[], batches: readonly number[]) {
    const auditor = new LogAuditor(checkpoints);
    let at = 0;
    for (const b of batches) {
      const size = 1 + (b % 97);
      auditor.add(stored.slice(at, at + size));
      at += size;
    }
    auditor.add(stored.slice(at));
    this.report = auditor.finish();
  }
}
