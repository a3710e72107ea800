/**
 * Exact integer apportionment: the arithmetic core every rule uses.
 *
 * Largest-remainder method (Hamilton): member i with weight w_i gets
 *   floor(total · w_i / W)          (W = Σ w over the members taking part)
 * and the L = total − Σ floors units still left go one each to the L members with the
 * largest remainders (total · w_i mod W). All remainders share the denominator W, so they
 * compare as integers, and L is smaller than the number of non-zero remainders, so nobody
 * gets more than one extra unit: |allocation − ideal| < 1 Wh, and the sum is exact.
 *
 * Tie-break (deterministic): among equal remainders, the member whose allocation before the
 * extra unit is smaller goes first (its running total including what earlier stages gave it),
 * then the lower member index. Preferring the smaller allocation keeps two members with equal
 * inputs within 1 Wh of each other even when a rule rounds in two stages.
 *
 * Products total · w must stay exact in doubles. The fast path checks each product against
 * 2^52 and the weight sum against 2^48 (so q · W below never leaves the exact range either)
 * and otherwise hands the whole call to a BigInt implementation with the same rules, which
 * yields the same result.
 */

/** Bound for exact products total · w. */
const EXACT_LIMIT = 2 ** 52;
/** Bound for weight sums: q · W ≤ x + 2W stays below 2^53. */
const WEIGHT_LIMIT = 2 ** 48;

/** Reusable buffers, so the per-interval loop allocates nothing. */
export class Scratch {
  floors: Float64Array;
  rems: Float64Array;
  bucket: Int32Array;
  group: Int32Array;
  idx: Int32Array;
  readonly histogram = new Int32Array(4096);

  constructor(capacity = 16) {
    this.floors = new Float64Array(capacity);
    this.rems = new Float64Array(capacity);
    this.bucket = new Int32Array(capacity);
    this.group = new Int32Array(capacity);
    this.idx = new Int32Array(capacity);
  }

  ensure(n: number): this {
    if (this.floors.length < n) {
      const size = Math.max(n, this.floors.length * 2);
      this.floors = new Float64Array(size);
      this.rems = new Float64Array(size);
      this.bucket = new Int32Array(size);
      this.group = new Int32Array(size);
      this.idx = new Int32Array(size);
    }
    return this;
  }
}

/** Any array of whole numbers the kernels read from. */
export type Numbers = Int32Array | Float64Array | readonly number[];

/**
 * Where kernels add their results: a Float64Array scratch, or directly an Int32Array view of
 * the result (per-interval rules), which saves a copy per interval.
 */
export type Accumulator = Float64Array | Int32Array;

/**
 * Adds the largest-remainder apportionment of `total` to `out[idx[k]]` for k < count, in
 * proportion to `weights[idx[k]]` (which sum to `weightSum` > 0). `idx` must be ascending.
 * `out` doubles as the tie-break base (its value before the call).
 */
export function apportionIndexed(
  total: number,
  idx: Int32Array,
  count: number,
  weights: Numbers,
  weightSum: number,
  out: Accumulator,
  scratch: Scratch,
): void {
  if (total === 0 || count === 0) return;
  if (weightSum <= 0) throw new RangeError('apportion: weights sum to zero');
  if (weightSum > WEIGHT_LIMIT) return apportionBig(total, idx, count, weights, out);
  scratch.ensure(count);
  const { floors, rems, bucket, histogram } = scratch;
  // Remainders are bucketed by r · B / W while they are computed (see addWithLargestRemainders).
  let B = 64;
  while (B < count && B < histogram.length) B <<= 1;
  const scale = B / weightSum;
  histogram.fill(0, 0, B);
  // A multiplication by the reciprocal is several times cheaper than a division; its
  // quotient can be off by a unit or two, which the exact remainder check below repairs.
  const inverse = 1 / weightSum;
  let assigned = 0;
  for (let k = 0; k < count; k++) {
    const x = total * weights[idx[k]!]!;
    if (x > EXACT_LIMIT) return apportionBig(total, idx, count, weights, out);
    let q = Math.floor(x * inverse);
    let r = x - q * weightSum;
    while (r < 0) { q -= 1; r += weightSum; }
    while (r >= weightSum) { q += 1; r -= weightSum; }
    floors[k] = q;
    rems[k] = r;
    assigned += q;
    // r · scale < B ≤ 4096, so truncation by `| 0` is the floor.
    let b = (r * scale) | 0;
    if (b >= B) b = B - 1;
    bucket[k] = b;
    histogram[b]! += 1;
  }
  const left = total - assigned;
  if (left === 0) {
    for (let k = 0; k < count; k++) out[idx[k]!]! += floors[k]!;
  } else if (left === 1) {
    let best = 0;
    for (let k = 1; k < count; k++) {
      if (rems[k]! > rems[best]! || (rems[k] === rems[best] && before(k, best, idx, out, floors) < 0)) best = k;
    }
    floors[best]! += 1;
    for (let k = 0; k < count; k++) out[idx[k]!]! += floors[k]!;
  } else {
    addWithLargestRemainders(left, B, idx, count, out, scratch);
  }
}

/** Tie-break order of two positions with equal remainders (see the module comment). */
function before(a: number, b: number, idx: Int32Array, out: Accumulator, floors: Float64Array): number {
  return (out[idx[a]!]! + floors[a]!) - (out[idx[b]!]! + floors[b]!) || a - b;
}

/**
 * Adds floors[k] to out, plus 1 for the `left` positions with the largest remainders (ties as
 * in `before`). The remainders were bucketed by r · B / W: the scaling is monotone, so equal
 * remainders share a bucket and a higher bucket always holds larger remainders. Counting down
 * from the top bucket finds the bucket holding the cut; only that bucket's members (about
 * count / B) are sorted exactly. One pass over the members, no full sort.
 */
function addWithLargestRemainders(left: number, B: number, idx: Int32Array, count: number, out: Accumulator, scratch: Scratch): void {
  const { floors, rems, bucket, group, histogram } = scratch;
  let need = left;
  let cut = B - 1;
  while (histogram[cut]! < need) {
    need -= histogram[cut]!;
    cut -= 1;
  }
  let m = 0;
  for (let k = 0; k < count; k++) {
    const b = bucket[k]!;
    if (b > cut) out[idx[k]!]! += floors[k]! + 1;
    else if (b < cut) out[idx[k]!]! += floors[k]!;
    else group[m++] = k;
  }
  // `out` still holds the pre-call values of the group, as the tie-break needs.
  const members = group.subarray(0, m);
  if (m > need) members.sort((a, b) => rems[b]! - rems[a]! || before(a, b, idx, out, floors));
  for (let g = 0; g < m; g++) {
    const k = members[g]!;
    out[idx[k]!]! += floors[k]! + (g < need ? 1 : 0);
  }
}

/** BigInt twin of apportionIndexed, for products beyond 2^52. Same results, same tie-break. */
function apportionBig(total: number, idx: Int32Array, count: number, weights: Numbers, out: Accumulator): void {
  const T = BigInt(total);
  let W = 0n;
  for (let k = 0; k < count; k++) W += BigInt(weights[idx[k]!]!);
  const floors: bigint[] = new Array<bigint>(count);
  const rems: bigint[] = new Array<bigint>(count);
  let assigned = 0n;
  for (let k = 0; k < count; k++) {
    const x = T * BigInt(weights[idx[k]!]!);
    floors[k] = x / W;
    rems[k] = x % W;
    assigned += floors[k]!;
  }
  const left = Number(T - assigned);
  const bonus = new Uint8Array(count);
  if (left > 0) {
    const order = Array.from({ length: count }, (_, k) => k);
    order.sort((a, b) => {
      const ra = rems[a]!, rb = rems[b]!;
      if (ra !== rb) return ra > rb ? -1 : 1;
      const ba = out[idx[a]!]! + Number(floors[a]!), bb = out[idx[b]!]! + Number(floors[b]!);
      return ba - bb || a - b;
    });
    for (let t = 0; t < left; t++) bonus[order[t]!] = 1;
  }
  for (let k = 0; k < count; k++) out[idx[k]!]! += Number(floors[k]!) + bonus[k]!;
}

/**
 * Water-filling: distributes up to `supply` over the members with `weights[i] > 0` and
 * `caps[i] > 0`, in proportion to their weights, never beyond their caps, adding into `out`.
 * This is what "redistribute the leftover in proportion to shares, again and again, until no
 * energy or no demand is left" converges to: member i ends with min(cap_i, λ·w_i) for the λ
 * that uses up the supply. Members whose cap fits under their proportional share are filled
 * first (exact integer comparison cap·W ≤ R·w), then the rest is apportioned by largest
 * remainder, which cannot exceed a cap because every remaining ideal is below its cap.
 * Returns the energy distributed: min(supply, Σ caps of the members taking part).
 */
export function waterFill(supply: number, caps: Numbers, weights: Numbers, out: Accumulator, scratch: Scratch): number {
  const n = caps.length;
  scratch.ensure(n);
  const idx = scratch.idx;
  let count = 0;
  let W = 0;
  let D = 0;
  let maxCap = 0;
  let maxWeight = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i]!;
    const c = caps[i]!;
    if (w > 0 && c > 0) {
      idx[count++] = i;
      W += w;
      D += c;
      if (c > maxCap) maxCap = c;
      if (w > maxWeight) maxWeight = w;
    }
  }
  if (count === 0 || supply <= 0) return 0;
  if (supply >= D) {
    for (let k = 0; k < count; k++) out[idx[k]!]! += caps[idx[k]!]!;
    return D;
  }
  if (maxCap * W > EXACT_LIMIT || supply * maxWeight > EXACT_LIMIT || W > WEIGHT_LIMIT) {
    return waterFillBig(supply, idx.slice(0, count), caps, weights, out);
  }
  let R = supply;
  for (;;) {
    let kept = 0;
    const before = count;
    for (let k = 0; k < count; k++) {
      const i = idx[k]!;
      const c = caps[i]!;
      const w = weights[i]!;
      // The ratio R/W only grows as members are filled, so testing against the running
      // values fills a superset of what a round-by-round loop would, never a wrong one.
      if (c * W <= R * w) {
        out[i]! += c;
        R -= c;
        W -= w;
      } else {
        idx[kept++] = i;
      }
    }
    count = kept;
    if (count === before || count === 0 || R === 0) break;
  }
  if (count > 0 && R > 0) apportionIndexed(R, idx, count, weights, W, out, scratch);
  return supply;
}

/** BigInt water-filling for values whose products leave the exact double range. */
function waterFillBig(supply: number, members: Int32Array, caps: Numbers, weights: Numbers, out: Accumulator): number {
  let active = Array.from(members);
  let R = BigInt(supply);
  let W = 0n;
  for (const i of active) W += BigInt(weights[i]!);
  for (;;) {
    const kept: number[] = [];
    for (const i of active) {
      const c = BigInt(caps[i]!);
      const w = BigInt(weights[i]!);
      if (c * W <= R * w) {
        out[i]! += caps[i]!;
        R -= c;
        W -= w;
      } else {
        kept.push(i);
      }
    }
    const changed = kept.length !== active.length;
    active = kept;
    if (!changed || active.length === 0 || R === 0n) break;
  }
  if (active.length > 0 && R > 0n) {
    const idx = Int32Array.from(active);
    apportionBig(Number(R), idx, idx.length, weights, out);
  }
  return supply;
}

/**
 * Convenience form for code outside the hot loops: the largest-remainder apportionment of
 * `total` over all `weights` (Σ weights must be > 0 unless total is 0), as a new array.
 */
export function apportion(total: number, weights: Numbers, scratch = new Scratch(weights.length)): Float64Array {
  const n = weights.length;
  const out = new Float64Array(n);
  if (total === 0) return out;
  scratch.ensure(n);
  const idx = scratch.idx;
  let count = 0;
  let W = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i]!;
    if (w < 0 || !Number.isInteger(w)) throw new RangeError(`apportion: weight ${w} is not a whole number ≥ 0`);
    if (w > 0) { idx[count++] = i; W += w; }
  }
  if (!Number.isInteger(total) || total < 0) throw new RangeError(`apportion: total ${total} is not a whole number ≥ 0`);
  if (count === 0) throw new RangeError('apportion: weights sum to zero');
  apportionIndexed(total, idx, count, weights, W, out, scratch);
  return out;
}
