import type { Quality } from '../../kernel/energy.js';
import { DAY_MS, QUARTER_HOUR_MS } from '../../kernel/time.js';

/**
 * Pure: split energy as stored, one row per member (or community battery) and UTC day whose
 * columns hold the day's 96 quarter hours (slot s is the quarter hour starting s × 15 min after
 * 00:00 UTC; null: no split stored there). The job merges a chunk's split into the stored days and
 * writes only the days that changed; readers unroll days back into quarter hours.
 */

export const SLOTS_PER_DAY = DAY_MS / QUARTER_HOUR_MS;

/** The Wh columns of a stored day, in the order the store's statements carry them. */
export const DAY_ENERGY_KEYS = ['consumptionWh', 'selfConsumedWh', 'fromCommunityWh', 'fromGridWh', 'productionWh', 'toCommunityWh',
  'toGridWh', 'allocatedFromCommunityWh', 'communityGridOriginWh'] as const;
export type DayEnergyKey = (typeof DAY_ENERGY_KEYS)[number];

/** Qualities by their stored code (the index), weakest last as in kernel/energy's `worst`. */
export const QUALITY_CODES: readonly Quality[] = ['measured', 'estimated', 'missing'];
export const QUALITY_CODE: Readonly<Record<Quality, number>> = { measured: 0, estimated: 1, missing: 2 };
/** The split's quality code where an id has no row in a quarter hour (`SplitRows`). */
export const NO_ROW = 255;

/**
 * One UTC day of a member (`id` the member's) or of a community battery (`id` its metering
 * point's): every column has SLOTS_PER_DAY entries, null where no quarter hour is stored.
 */
export type EnergyDay = { readonly id: string; quality: (number | null)[]; provisional: (boolean | null)[] }
  & Record<DayEnergyKey, (number | null)[]>;

/**
 * Split rows as columns, interval-major (`t * ids.length + i`, t the quarter hour's index in
 * the split's `starts`): id i has a row in quarter hour t where `quality` (`QUALITY_CODES`) is
 * not NO_ROW, and zeros where it has none or is missing. Columns rather than an object per row: a
 * 1,000-member chunk has 96,000 rows, and their garbage, promoted while a chunk lives, was most of
 * the sharing job's peak memory (bench/RESULTS.md).
 */
export type SplitRows = {
  readonly ids: readonly string[];
  readonly quality: Uint8Array;
  /** Per quarter hour (index t): 1 where every row of it is provisional. */
  readonly provisional: Uint8Array;
} & Readonly<Record<DayEnergyKey, Float64Array>>;

/** Split rows of `ids` over `quarters` quarter hours without any row yet, sharing the quarter hours' `provisional` flags. */
export function splitRows(ids: readonly string[], quarters: number, provisional: Uint8Array): SplitRows {
  const size = ids.length * quarters;
  const energy = Object.fromEntries(DAY_ENERGY_KEYS.map((key) => [key, new Float64Array(size)])) as Record<DayEnergyKey, Float64Array>;
  return { ids, quality: new Uint8Array(size).fill(NO_ROW), provisional, ...energy };
}

/** The UTC day (its 00:00 in ms) and slot of a quarter hour. */
export const dayOf = (startMs: number): number => Math.floor(startMs / DAY_MS) * DAY_MS;
export const slotOf = (startMs: number): number => (startMs - dayOf(startMs)) / QUARTER_HOUR_MS;

/** A day without any stored quarter hour. */
export function emptyDay(id: string): EnergyDay {
  const slots = () => new Array<null>(SLOTS_PER_DAY).fill(null);
  const day = { id, quality: slots(), provisional: slots() } as Partial<EnergyDay> & Pick<EnergyDay, 'id' | 'quality' | 'provisional'>;
  for (const key of DAY_ENERGY_KEYS) day[key] = slots();
  return day as EnergyDay;
}

const copyDay = (day: EnergyDay): EnergyDay => {
  const copy = { id: day.id, quality: [...day.quality], provisional: [...day.provisional] } as Partial<EnergyDay> & Pick<EnergyDay, 'id' | 'quality' | 'provisional'>;
  for (const key of DAY_ENERGY_KEYS) copy[key] = [...day[key]];
  return copy as EnergyDay;
};

const hasAnySlot = (day: EnergyDay): boolean => day.quality.some((q) => q !== null);

function sameDay(a: EnergyDay, b: EnergyDay): boolean {
  const equal = <T>(x: readonly T[], y: readonly T[]) => x.every((v, s) => v === y[s]);
  return equal(a.quality, b.quality) && equal(a.provisional, b.provisional) && DAY_ENERGY_KEYS.every((key) => equal(a[key], b[key]));
}

/** What a chunk changes in one UTC day: the days to write (new or changed) and whether any other stored day remains. */
export interface DayChanges {
  /** Days whose slots changed (or that are new), to be written whole. */
  readonly write: EnergyDay[];
  /** Ids (members, batteries) whose day keeps at least one stored quarter hour after the chunk (written or untouched). */
  readonly present: string[];
}

/**
 * Merges the split of some quarter hours of one UTC day (`rows`, the split's columns of the members
 * or of the batteries; `slots[t]` the slot of its quarter hour t, every quarter hour the chunk
 * recomputed) into the stored days (`stored`, by id; an id absent has no stored day): a recomputed
 * slot takes the new figures or, for an id without a row there (it takes no part any more), none.
 * Only days whose slots changed are returned for writing, so re-running a chunk writes nothing.
 */
export function mergeDay(stored: ReadonlyMap<string, EnergyDay>, slots: readonly number[], rows: SplitRows): DayChanges {
  const merged = new Map<string, EnergyDay>();
  const dayFor = (id: string) => {
    let day = merged.get(id);
    if (day === undefined) {
      const before = stored.get(id);
      day = before ? copyDay(before) : emptyDay(id);
      if (before) for (const s of slots) clearSlot(day, s);
      merged.set(id, day);
    }
    return day;
  };
  for (const id of stored.keys()) dayFor(id);
  const n = rows.ids.length;
  for (let t = 0; t < slots.length; t++) {
    const s = slots[t]!;
    for (let i = 0; i < n; i++) {
      const r = t * n + i;
      const quality = rows.quality[r]!;
      if (quality === NO_ROW) continue;
      const day = dayFor(rows.ids[i]!);
      for (const key of DAY_ENERGY_KEYS) day[key][s] = rows[key][r]!;
      day.quality[s] = quality;
      day.provisional[s] = rows.provisional[t] === 1;
    }
  }
  const write: EnergyDay[] = [];
  const present: string[] = [];
  for (const [id, day] of merged) {
    if (!hasAnySlot(day)) continue;
    present.push(id);
    const before = stored.get(id);
    if (!before || !sameDay(before, day)) write.push(day);
  }
  return { write, present };
}

function clearSlot(day: EnergyDay, s: number): void {
  for (const key of DAY_ENERGY_KEYS) day[key][s] = null;
  day.quality[s] = null;
  day.provisional[s] = null;
}

/** The slots of a day (its 00:00 UTC at `dayMs`) with a stored quarter hour starting in [fromMs, toMs), ascending. */
export function storedSlots(dayMs: number, day: Pick<EnergyDay, 'quality'>, fromMs: number, toMs: number): number[] {
  const slots: number[] = [];
  for (let s = 0; s < SLOTS_PER_DAY; s++) {
    const startMs = dayMs + s * QUARTER_HOUR_MS;
    if (day.quality[s] !== null && startMs >= fromMs && startMs < toMs) slots.push(s);
  }
  return slots;
}
