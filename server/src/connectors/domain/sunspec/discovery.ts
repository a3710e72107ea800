/**
 * Finding SunSpec models on a device: the `SunS` marker at one of the usual base addresses
 * (40000, 0, 50000, as 0-based holding-register addresses), then a chain of models, each a
 * header (ID, L) and L registers of body, ended by ID 0xFFFF. The shell reads the registers; the
 * decisions are here.
 */
export const SUNSPEC_BASE_ADDRESSES: readonly number[] = [40000, 0, 50000];

/** "Su" "nS" */
export const SUNS_MARKER: readonly [number, number] = [0x5375, 0x6e53];

export const END_OF_CHAIN = 0xffff;

/** More models than any real device has: a chain that goes on is broken. */
export const MAX_MODELS = 100;

export interface ModelLocation {
  readonly id: number;
  /** Address of the first register of the body (after ID and L). */
  readonly address: number;
  /** L: registers in the body. */
  readonly length: number;
}

export interface SunSpecLayout {
  readonly base: number;
  readonly models: readonly ModelLocation[];
  /** False when the chain stopped before its end marker (`endNote` says how): the models found are used. */
  readonly complete: boolean;
  readonly endNote?: string | undefined;
}

export function isSunSpecMarker(regs: ArrayLike<number>): boolean {
  return regs.length >= 2 && regs[0] === SUNS_MARKER[0] && regs[1] === SUNS_MARKER[1];
}

export type ChainStep =
  | { readonly kind: 'model'; readonly location: ModelLocation; readonly next: number }
  | { readonly kind: 'end' }
  | { readonly kind: 'broken'; readonly reason: string };

/** What the header (ID, L) read at `headerAddress` means for the chain. */
export function chainStep(header: ArrayLike<number>, headerAddress: number): ChainStep {
  const id = header[0]!;
  const length = header[1]!;
  if (id === END_OF_CHAIN) return { kind: 'end' };
  if (id === 0) return { kind: 'broken', reason: `model ID 0 at ${headerAddress} (no end marker)` };
  const next = headerAddress + 2 + length;
  if (next > 0x10000) return { kind: 'broken', reason: `model ${id} at ${headerAddress} claims ${length} registers, past the end of the address space` };
  return { kind: 'model', location: { id, address: headerAddress + 2, length }, next };
}
