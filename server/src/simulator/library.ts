/**
 * The district library: a public building open on weekdays (and Saturday mornings). At night
 * servers, fridges, emergency lighting and minimum ventilation; during opening hours lights,
 * computers and ventilation, plus heating pumps when it is cold and cooling when it is hot.
 * About 35–40 MWh a year, so its 60 kWp roof makes it a net producer, as in the demo seed.
 */
import type { Cell } from './cell.js';
import { deriveSeed, noiseTrack, smoothstep } from './random.js';

const MINUTE_MS = 60_000;

/** Opening hours in local minutes after midnight, by weekday (0 = Sunday). */
export const LIBRARY_HOURS: readonly (readonly [open: number, close: number] | null)[] = [
  null,
  [9 * 60, 19 * 60],
  [9 * 60, 19 * 60],
  [9 * 60, 19 * 60],
  [9 * 60, 19 * 60],
  [9 * 60, 19 * 60],
  [9 * 60, 13 * 60],
];

export interface Library {
  loadW(cell: Cell): number;
}

/** How "open" the building is: 0 closed, 1 open; ventilation and lights start 45 min early. */
export function openness(weekday: number, minute: number): number {
  const hours = LIBRARY_HOURS[weekday];
  if (!hours) return 0;
  const [open, close] = hours;
  return smoothstep(open - 45, open, minute) * (1 - smoothstep(close, close + 30, minute));
}

export function createLibrary(seed: number, name: string): Library {
  const visitors = noiseTrack(deriveSeed(seed, 'library-visitors', name), 30 * MINUTE_MS);
  const baseWobble = noiseTrack(deriveSeed(seed, 'library-base', name), 20 * MINUTE_MS);
  return {
    loadW(cell) {
      const base = 1800 * (1 + 0.05 * baseWobble(cell.mid));
      const open = openness(cell.local.weekday, cell.local.minute);
      if (open === 0) return base;
      const heating = 2500 * Math.max(0, Math.min(1, (12 - cell.ambientC) / 15));
      const cooling = 900 * Math.max(0, cell.ambientC - 22);
      const busy = 1 + 0.15 * visitors(cell.mid);
      return base + open * (7000 * busy + heating + cooling);
    },
  };
}
