import { apportionIndexed, Scratch, type Accumulator, type Numbers } from './apportion.js';

/**
 * The producer side of an interval: which part of each member's export went to the
 * community. Consumers receive from one pool; the pool is filled by the producers
 * `proportional`ly to their export (the default everywhere), or in a `priority` order
 * (Italy allows splitting shared energy "starting from the plants that entered service
 * first"). Either way Σ toCommunity = what the consumers received, and nobody's part
 * exceeds their export.
 */
export type ProducerAttribution =
  | { readonly kind: 'proportional' }
  | { readonly kind: 'priority'; readonly order: readonly number[] };

export const PROPORTIONAL: ProducerAttribution = { kind: 'proportional' };

/**
 * Writes into `out` (zeroed by the caller) the part of `exports[j]` that went to the
 * community, given that consumers received `allocated` in total (≤ `supply` = Σ exports).
 */
export function attributeToProducers(
  allocated: number,
  supply: number,
  exports: Numbers,
  out: Accumulator,
  attribution: ProducerAttribution,
  scratch: Scratch,
): void {
  if (allocated === 0) return;
  if (allocated > supply) throw new RangeError(`allocated ${allocated} Wh exceeds the supply of ${supply} Wh`);
  const n = exports.length;
  if (allocated === supply) {
    for (let j = 0; j < n; j++) out[j] = exports[j]!;
    return;
  }
  if (attribution.kind === 'priority') {
    let left = allocated;
    for (const j of attribution.order) {
      if (left === 0) break;
      const take = Math.min(left, exports[j]!);
      out[j]! += take;
      left -= take;
    }
    // Producers missing from the order share what is left proportionally.
    if (left > 0) {
      const rest = new Float64Array(n);
      for (let j = 0; j < n; j++) rest[j] = exports[j]! - out[j]!;
      apportionAll(left, rest, out, scratch);
    }
    return;
  }
  apportionAll(allocated, exports, out, scratch);
}

function apportionAll(total: number, weights: Numbers, out: Accumulator, scratch: Scratch): void {
  const n = weights.length;
  scratch.ensure(n);
  const idx = scratch.idx;
  let count = 0;
  let W = 0;
  for (let j = 0; j < n; j++) {
    const w = weights[j]!;
    if (w > 0) { idx[count++] = j; W += w; }
  }
  apportionIndexed(total, idx, count, weights, W, out, scratch);
}

/** Who gave how much to whom in one interval. */
export interface ProducerConsumerFlows {
  readonly consumers: readonly number[];
  readonly producers: readonly number[];
  /** Wh from producer `producers[p]` to consumer `consumers[c]` at `c * producers.length + p`. */
  readonly flowWh: Float64Array;
}

/**
 * Splits each consumer's community energy over the producers in proportion to what each
 * producer gave the community: ideal flow_cp = received_c · given_p / Σ received. The integer
 * table keeps both margins exact (rows sum to what each consumer received, columns to what
 * each producer gave) with every cell within 1 Wh of its ideal. Such a table always exists
 * (the fractional parts form a transportation problem, whose polytope has integer corners);
 * it is found by flooring every cell and routing the missing units through cells with a
 * fractional part, one augmenting path per unit.
 */
export function producerConsumerFlows(receivedWh: Numbers, givenWh: Numbers): ProducerConsumerFlows {
  const consumers: number[] = [];
  const producers: number[] = [];
  let A = 0;
  let G = 0;
  for (let i = 0; i < receivedWh.length; i++) if (receivedWh[i]! > 0) { consumers.push(i); A += receivedWh[i]!; }
  for (let j = 0; j < givenWh.length; j++) if (givenWh[j]! > 0) { producers.push(j); G += givenWh[j]!; }
  if (A !== G) throw new RangeError(`consumers received ${A} Wh but producers gave ${G} Wh`);
  const C = consumers.length;
  const P = producers.length;
  const flow = new Float64Array(C * P);
  if (A === 0) return { consumers, producers, flowWh: flow };
  const fractional = new Uint8Array(C * P);
  const rowLeft = new Float64Array(C);
  const colLeft = new Float64Array(P);
  for (let p = 0; p < P; p++) colLeft[p] = givenWh[producers[p]!]!;
  for (let c = 0; c < C; c++) {
    const a = receivedWh[consumers[c]!]!;
    let row = 0;
    for (let p = 0; p < P; p++) {
      const { quotient, remainder } = mulDiv(a, givenWh[producers[p]!]!, A);
      flow[c * P + p] = quotient;
      fractional[c * P + p] = remainder > 0 ? 1 : 0;
      row += quotient;
      colLeft[p]! -= quotient;
    }
    rowLeft[c] = a - row;
  }
  // Route each missing unit from a row with a deficit to a column with a deficit through
  // cells that may still take +1 (fractional, not raised yet), undoing earlier +1s on the way
  // when needed (an augmenting path in the bipartite graph of fractional cells).
  const raised = new Uint8Array(C * P);
  const prevRow = new Int32Array(P);
  const prevCol = new Int32Array(C);
  for (let c0 = 0; c0 < C; c0++) {
    while (rowLeft[c0]! > 0) {
      prevRow.fill(-1);
      prevCol.fill(-2);
      prevCol[c0] = -1;
      const queue = [c0];
      let end = -1;
      for (let head = 0; head < queue.length && end < 0; head++) {
        const c = queue[head]!;
        for (let p = 0; p < P; p++) {
          const k = c * P + p;
          if (prevRow[p] !== -1 || !fractional[k] || raised[k]) continue;
          prevRow[p] = c;
          if (colLeft[p]! > 0) { end = p; break; }
          for (let c2 = 0; c2 < C; c2++) {
            if (prevCol[c2] === -2 && raised[c2 * P + p]) { prevCol[c2] = p; queue.push(c2); }
          }
        }
      }
      if (end < 0) throw new Error('producerConsumerFlows: no integer table with these margins (bug)');
      colLeft[end]! -= 1;
      rowLeft[c0]! -= 1;
      let p = end;
      for (;;) {
        const c = prevRow[p]!;
        raised[c * P + p] = 1;
        flow[c * P + p]! += 1;
        const back = prevCol[c]!;
        if (back === -1) break;
        raised[c * P + back] = 0;
        flow[c * P + back]! -= 1;
        p = back;
      }
    }
  }
  return { consumers, producers, flowWh: flow };
}

/** floor(a·b / d) and its remainder, exactly (BigInt when the product leaves 2^53). */
function mulDiv(a: number, b: number, d: number): { quotient: number; remainder: number } {
  const x = a * b;
  // Below 2^52 both x and q·d (≤ x + d) are exact doubles.
  if (x <= 2 ** 52 && d <= 2 ** 52) {
    const q = Math.floor(x / d);
    const r = x - q * d;
    if (r < 0) return { quotient: q - 1, remainder: r + d };
    if (r >= d) return { quotient: q + 1, remainder: r - d };
    return { quotient: q, remainder: r };
  }
  const big = BigInt(a) * BigInt(b);
  return { quotient: Number(big / BigInt(d)), remainder: Number(big % BigInt(d)) };
}
