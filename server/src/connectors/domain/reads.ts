/**
 * Modbus reads planned as few requests as the protocol allows: ranges of registers merged into
 * blocks of at most 125 registers (the most one read may ask for), bridging gaps of at most
 * `maxGap` registers (0 unless the device is known to answer for the registers in between:
 * many answer a read that touches an unmapped register with an exception).
 */
export const MAX_REGISTERS_PER_READ = 125;

export interface RegisterRange {
  readonly address: number;
  readonly count: number;
}

export function planReads(ranges: readonly RegisterRange[], maxGap = 0, maxCount = MAX_REGISTERS_PER_READ): RegisterRange[] {
  const sorted = ranges.filter((r) => r.count > 0).sort((a, b) => a.address - b.address);
  const blocks: RegisterRange[] = [];
  let start = -1;
  let end = -1;
  const flush = (): void => {
    if (start < 0) return;
    // A range longer than one read is split into reads of maxCount.
    for (let at = start; at < end; at += maxCount) blocks.push({ address: at, count: Math.min(maxCount, end - at) });
  };
  for (const range of sorted) {
    const rangeEnd = range.address + range.count;
    if (start >= 0 && range.address <= end + maxGap && Math.max(end, rangeEnd) - start <= maxCount) {
      end = Math.max(end, rangeEnd);
      continue;
    }
    flush();
    start = range.address;
    end = rangeEnd;
  }
  flush();
  return blocks;
}

/** The registers [address, address + count) out of blocks read by planReads, or undefined when a block is missing. */
export function registersFrom(blocks: ReadonlyMap<number, ArrayLike<number>>, plan: readonly RegisterRange[], address: number, count: number): number[] | undefined {
  const out: number[] = [];
  for (let a = address; a < address + count; a++) {
    const block = plan.find((b) => a >= b.address && a < b.address + b.count);
    const regs = block === undefined ? undefined : blocks.get(block.address);
    if (regs === undefined) return undefined;
    out.push(regs[a - block!.address]!);
  }
  return out;
}
