import type { LocalTime } from '../kernel/calendar.js';
import type { ClearSky, SunPosition } from './sun.js';

/**
 * One time cell of the simulation grid (e.g. one minute), with what every site shares: local
 * time, the sun and the weather at its middle. Power is constant over a cell, so energy over
 * any span is exact whatever steps the caller takes.
 */
export interface Cell {
  /** UTC ms, inclusive. */
  readonly start: number;
  /** UTC ms, exclusive. */
  readonly end: number;
  readonly mid: number;
  readonly local: LocalTime;
  /** Saturday or Sunday, local. */
  readonly weekend: boolean;
  /** +1 mid-January … −1 mid-July (see `winterness`), for the local day. */
  readonly winter: number;
  readonly sun: SunPosition;
  readonly clear: ClearSky;
  /** Cloud cover of the weather situation, 0…1. */
  readonly cover: number;
  readonly ambientC: number;
}
