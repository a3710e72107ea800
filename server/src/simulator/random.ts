/**
 * Deterministic randomness for the simulator. Two kinds:
 * - `mulberry32`: a sequential PRNG for drawing a site's fixed traits or one day's appliance runs;
 * - `hashUnit`/`valueNoise`: randomness as a pure function of (seed, position), so a random
 *   process can be evaluated at any instant in any order. That is what makes the simulation
 *   independent of its step size: nothing depends on how many random numbers were drawn before.
 */

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/** mulberry32 (Tommy Ettinger, public domain): 32-bit state, good enough for simulation. */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The 32-bit finaliser of "lowbias32" (Chris Wellons): every input bit affects every output bit. */
function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Combines a seed with numbers and strings into a new 32-bit seed (FNV-1a for strings). */
export function deriveSeed(seed: number, ...parts: readonly (number | string)[]): number {
  let h = mix32(seed ^ 0x9e3779b9);
  for (const part of parts) {
    if (typeof part === 'number') {
      h = mix32(h ^ mix32(Math.floor(part) | 0) ^ mix32(Math.floor(part / 4294967296) | 0));
    } else {
      let s = 0x811c9dc5;
      for (let i = 0; i < part.length; i++) s = Math.imul(s ^ part.charCodeAt(i), 0x01000193);
      h = mix32(h ^ s);
    }
  }
  return h;
}

/** A uniform number in [0, 1) determined by (seed, integer index) alone. */
export function hashUnit(seed: number, index: number): number {
  return mix32(seed ^ mix32(index + 0x632be5ab)) / 4294967296;
}

/**
 * 1-D value noise in [-1, 1]: random values on the integer lattice, joined by smoothstep, so
 * the process is continuous with a continuous slope and has a correlation length of ~1 unit.
 * Its mean over long spans is 0, so `1 + a·noise` keeps an average of 1.
 */
export function valueNoise(seed: number, x: number): number {
  const i = Math.floor(x);
  const f = x - i;
  const a = hashUnit(seed, i) * 2 - 1;
  const b = hashUnit(seed, i + 1) * 2 - 1;
  const s = f * f * (3 - 2 * f);
  return a + (b - a) * s;
}

/**
 * `valueNoise(seed, t / period)` as a function of t that remembers the last lattice cell: the
 * simulation moves forward in small steps, so most calls need no hashing at all. Same values.
 */
export function noiseTrack(seed: number, period: number): (t: number) => number {
  let cell = Number.NaN;
  let a = 0;
  let b = 0;
  return (t) => {
    const x = t / period;
    const i = Math.floor(x);
    if (i !== cell) {
      if (i === cell + 1) {
        a = b;
      } else {
        a = hashUnit(seed, i) * 2 - 1;
      }
      b = hashUnit(seed, i + 1) * 2 - 1;
      cell = i;
    }
    const f = x - i;
    return a + (b - a) * (f * f * (3 - 2 * f));
  };
}

export function uniform(rng: Rng, min: number, max: number): number {
  return min + (max - min) * rng();
}

export function smoothstep(edge0: number, edge1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - edge0) / (edge1 - edge0)));
  return t * t * (3 - 2 * t);
}

export function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}
