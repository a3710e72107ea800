/**
 * The auditor's core: rebuild the tree from the stored entries, in order, and compare its root
 * at every published checkpoint's size. Any changed, removed, inserted or reordered entry
 * changes the root at every checkpoint from its position on, so the first mismatch says where
 * the stored log stopped matching what was published.
 */
import type { Bytes } from './crypto.js';
import { bytesEqual, toHex } from './bytes.js';
import type { Checkpoint } from './checkpoint.js';
import { leafHash, type Hash } from './merkle.js';
import { EMPTY_FRONTIER, appendLeaves, rootOfFrontier, type Frontier } from './tiles.js';

export interface AuditMismatch {
  readonly size: number;
  readonly published: Hash;
  readonly recomputed: Hash;
  readonly message: string;
}

export interface AuditReport {
  readonly entries: number;
  readonly checkpointsChecked: number;
  readonly mismatches: readonly AuditMismatch[];
  /** Published checkpoints larger than the stored log: entries were removed (or not stored). */
  readonly beyondStoredLog: readonly Checkpoint[];
}

/** Fed the stored entries batch by batch (so a store can stream them), in log order. */
export class LogAuditor {
  private frontier: Frontier = EMPTY_FRONTIER;
  private readonly pending: Checkpoint[];
  private checked = 0;
  private readonly mismatches: AuditMismatch[] = [];

  constructor(published: readonly Checkpoint[]) {
    this.pending = [...published].sort((a, b) => a.size - b.size);
    this.checkDue();
  }

  add(entries: readonly Bytes[]): void {
    let from = 0;
    while (from < entries.length) {
      const next = this.pending[0];
      const room = next === undefined ? entries.length - from : Math.min(entries.length - from, next.size - this.frontier.size);
      this.frontier = appendLeaves(this.frontier, entries.slice(from, from + room).map(leafHash)).frontier;
      from += room;
      this.checkDue();
    }
  }

  private checkDue(): void {
    while (this.pending.length > 0 && this.pending[0]!.size === this.frontier.size) {
      const checkpoint = this.pending.shift()!;
      const recomputed = rootOfFrontier(this.frontier);
      this.checked++;
      if (!bytesEqual(recomputed, checkpoint.rootHash)) {
        this.mismatches.push({
          size: checkpoint.size, published: checkpoint.rootHash, recomputed,
          message: `the stored entries 0–${checkpoint.size - 1} hash to ${toHex(recomputed)}, but the checkpoint published for that size says ${toHex(checkpoint.rootHash)}: stored entries were changed, removed or reordered`,
        });
      }
    }
  }

  finish(): AuditReport {
    return { entries: this.frontier.size, checkpointsChecked: this.checked, mismatches: [...this.mismatches], beyondStoredLog: [...this.pending] };
  }
}
