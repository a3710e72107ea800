/** A rooftop PV system: light on its plane → DC → AC at the inverter. */
import { deriveSeed, mulberry32, noiseTrack, uniform } from './random.js';
import { onPlane, type ClearSky, type Plane, type SunPosition } from './sun.js';
import type { Sky } from './weather.js';

const DEG = Math.PI / 180;

export interface PvSystem {
  readonly peakW: number;
  readonly plane: Plane;
  /** Wiring, inverter, soiling and mismatch losses (temperature is modelled separately). */
  readonly efficiency: number;
  /** How much later than the street's reference point a cloud reaches this roof, ms. */
  readonly cloudDelayMs: number;
  /** Small roof-specific wobble in [-1, 1] (local shading, module temperature differences). */
  readonly wobble: (utcMs: number) => number;
}

export interface PvTraits {
  /** Typical tilt and facing for the roof; drawn around these. */
  readonly tiltDeg: number;
  readonly azimuthDeg: number;
  readonly spreadDeg: number;
}

/** Pitched house roofs: ~30° tilt, facing anywhere from south-east to south-west. */
export const HOUSE_ROOF: PvTraits = { tiltDeg: 32, azimuthDeg: 180, spreadDeg: 40 };
/** A flat public roof: low racks, near south. */
export const FLAT_ROOF: PvTraits = { tiltDeg: 15, azimuthDeg: 175, spreadDeg: 5 };

export function createPvSystem(seed: number, name: string, peakW: number, traits: PvTraits): PvSystem {
  const rng = mulberry32(deriveSeed(seed, 'pv', name));
  return {
    peakW,
    plane: {
      tilt: uniform(rng, traits.tiltDeg - 8, traits.tiltDeg + 8) * DEG,
      azimuth: uniform(rng, traits.azimuthDeg - traits.spreadDeg, traits.azimuthDeg + traits.spreadDeg) * DEG,
    },
    efficiency: uniform(rng, 0.84, 0.9),
    // ~300 m of street and ~10 m/s of wind: a cloud edge reaches the roofs within ±30 s.
    cloudDelayMs: uniform(rng, -30_000, 30_000),
    wobble: noiseTrack(deriveSeed(seed, 'pv-variation', name), 45 * 60_000),
  };
}

/** Power temperature coefficient of crystalline silicon, 1/K. */
const TEMPERATURE_COEFFICIENT = -0.004;
/** NOCT-style cell heating: 45 °C at 800 W/m² and 20 °C air, i.e. 25 K per 800 W/m². */
const HEATING_K_PER_WM2 = 25 / 800;

/** AC power in W: 0 at night, never negative, clipped at the inverter's rating (= peakW). */
export function pvPowerW(system: PvSystem, utcMs: number, sun: SunPosition, clear: ClearSky, sky: Sky, ambientC: number): number {
  if (sun.elevation <= 0 || clear.dni <= 0) return 0;
  const dni = clear.dni * sky.beam;
  const dhi = clear.dhi * sky.diffuse + (1 - sky.beam) * sky.scatter * clear.dni * sun.cosZenith;
  const light = onPlane(sun, system.plane, dni, dhi);
  const poa = light.beam + light.diffuse;
  const cellC = ambientC + poa * HEATING_K_PER_WM2;
  const thermal = 1 + TEMPERATURE_COEFFICIENT * (cellC - 25);
  const power = system.peakW * (poa / 1000) * system.efficiency * thermal * (1 + 0.015 * system.wobble(utcMs));
  return Math.min(system.peakW, Math.max(0, power));
}
