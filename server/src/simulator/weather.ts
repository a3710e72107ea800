/**
 * The sky over the street: one weather situation for everyone (it is one street), seen by each
 * roof a few seconds earlier or later as clouds drift over. All processes are value noise of
 * time, so the weather at an instant does not depend on how the simulation got there.
 */
import { clamp, deriveSeed, noiseTrack, smoothstep } from './random.js';
import { DAY_MS, HOUR_MS } from '../kernel/time.js';
import type { LocalTime } from '../kernel/calendar.js';

const MINUTE_MS = 60_000;
const YEAR_DAYS = 365.2425;

/** +1 in mid-January, −1 in mid-July: Vienna's seasons (cloudier, colder winters). */
export function winterness(day: number): number {
  return Math.cos((2 * Math.PI * (day - 15)) / YEAR_DAYS);
}

export interface Sky {
  /** Fraction of the clear-sky direct beam that gets through, 0…1. */
  readonly beam: number;
  /** Multiplier on the clear-sky diffuse light (broken clouds brighten the sky, overcast darkens it). */
  readonly diffuse: number;
  /** Fraction of the blocked beam that the cloud scatters down as diffuse light. */
  readonly scatter: number;
}

/** The sky as one roof sees it. */
export type RoofSky = (utcMs: number, cover: number) => Sky;

export interface Weather {
  /** Cloud cover of the weather situation: 0 clear … 1 overcast; changes over hours to days. */
  cover(utcMs: number): number;
  /** The sky over a roof that clouds reach `delayMs` later than the street's reference point. */
  roof(delayMs: number): RoofSky;
  /** Outdoor air temperature, °C. */
  ambientC(utcMs: number, local: LocalTime, winter: number, cover: number): number;
}

export const CLEAR_SKY: Sky = { beam: 1, diffuse: 1, scatter: 0 };

export function createWeather(seed: number): Weather {
  const fronts = noiseTrack(deriveSeed(seed, 'weather-fronts'), 36 * HOUR_MS);
  const showers = noiseTrack(deriveSeed(seed, 'weather-showers'), 7 * HOUR_MS);
  const warmSpell = noiseTrack(deriveSeed(seed, 'warm-spell'), 3 * DAY_MS);
  const cumulusSeed = deriveSeed(seed, 'cumulus');
  const cumulusFineSeed = deriveSeed(seed, 'cumulus-fine');

  return {
    cover(utcMs) {
      // Vienna: mean cover ~0.7 in winter (fog, stratus), ~0.3 in summer; fronts last a day or two.
      const mean = 0.5 + 0.2 * winterness(utcMs / DAY_MS);
      return clamp(mean + 0.55 * fronts(utcMs) + 0.25 * showers(utcMs), 0, 1);
    },
    roof(delayMs) {
      // Every roof sees the same cloud field (same seeds), shifted in time.
      const cumulus = noiseTrack(cumulusSeed, 15 * MINUTE_MS);
      const cumulusFine = noiseTrack(cumulusFineSeed, 4 * MINUTE_MS);
      return (utcMs, cover) => {
        const t = utcMs - delayMs;
        // Passing cumulus: a field in [0, 1] with ~15-min and ~4-min structure; a cloud sits over
        // the roof where the field exceeds a threshold that falls as the cover rises.
        const field = 0.5 + 0.5 * (0.7 * cumulus(t) + 0.3 * cumulusFine(t));
        const threshold = 0.78 - 0.65 * cover;
        const shade = smoothstep(threshold - 0.05, threshold + 0.05, field);
        // Above ~0.65 cover the clouds merge into a layer that hides the sun entirely.
        const layer = smoothstep(0.65, 0.95, cover);
        const haze = 1 - 0.15 * cover;
        return {
          beam: haze * (1 - layer) * (1 - 0.85 * shade),
          diffuse: (1 + 0.5 * cover) * (1 - layer) + 0.5 * layer,
          scatter: 0.3 - 0.05 * layer,
        };
      };
    },
    ambientC(utcMs, local, winter, cover) {
      // Vienna (Hohe Warte): ~0.5 °C in January, ~21 °C in July; afternoon peak, damped by clouds.
      const seasonal = 10.75 - 10.25 * winter;
      const diurnal = 4.5 * (1 - 0.6 * cover) * Math.cos((2 * Math.PI * (local.minute - 15 * 60)) / 1440);
      return seasonal + diurnal + 3 * warmSpell(utcMs);
    },
  };
}
