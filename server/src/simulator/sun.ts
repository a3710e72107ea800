/**
 * Where the sun is and how much light a clear sky delivers.
 *
 * Sun position: NOAA Global Monitoring Laboratory, "General Solar Position Calculations"
 * (https://gml.noaa.gov/grad/solcalc/solareqns.PDF), whose equation of time and declination
 * are J. W. Spencer's Fourier series ("Fourier series representation of the position of the
 * sun", Search 2(5), 1971). Accurate to a few arc-minutes, far below what PV output notices.
 *
 * Clear sky: the Meinel & Meinel (1976) direct-beam model with the Kasten & Young (1989) air
 * mass, diffuse taken as 10 % of the beam, as given by PVEducation ("Air Mass",
 * https://www.pveducation.org/pvcdrom/properties-of-sunlight/air-mass). On a tilted plane:
 * the isotropic-sky (Liu & Jordan) transposition with ground albedo.
 */

const DEG = Math.PI / 180;
const DAY_MS = 86_400_000;
/** Solar constant, W/m² (Kopp & Lean 2011). */
const SOLAR_CONSTANT = 1361;

export interface SunPosition {
  /** Angle above the horizon, radians (negative at night). */
  readonly elevation: number;
  /** Compass direction, radians clockwise from north (π = south). */
  readonly azimuth: number;
  /** cos of the zenith angle = sin(elevation). */
  readonly cosZenith: number;
  /** Day of the year, 1-based (for the Earth–Sun distance). */
  readonly dayOfYear: number;
}

// The year of the last call: consecutive calls are nearly always in the same year.
let cachedYearStart = 0;
let cachedYearEnd = 0;

export function sunPosition(utcMs: number, latitudeDeg: number, longitudeDeg: number): SunPosition {
  if (utcMs < cachedYearStart || utcMs >= cachedYearEnd) {
    const year = new Date(utcMs).getUTCFullYear();
    cachedYearStart = Date.UTC(year, 0, 1);
    cachedYearEnd = Date.UTC(year + 1, 0, 1);
  }
  const yearStart = cachedYearStart;
  const daysInYear = (cachedYearEnd - yearStart) / DAY_MS;
  const sinceYearStart = utcMs - yearStart;
  const dayOfYear = Math.floor(sinceYearStart / DAY_MS) + 1;
  const hour = (sinceYearStart - (dayOfYear - 1) * DAY_MS) / 3_600_000;

  // Fractional year γ (radians), then Spencer's series.
  const g = ((2 * Math.PI) / daysInYear) * (dayOfYear - 1 + (hour - 12) / 24);
  const eqTimeMin = 229.18 * (0.000075 + 0.001868 * Math.cos(g) - 0.032077 * Math.sin(g) - 0.014615 * Math.cos(2 * g) - 0.040849 * Math.sin(2 * g));
  const decl = 0.006918 - 0.399912 * Math.cos(g) + 0.070257 * Math.sin(g) - 0.006758 * Math.cos(2 * g)
    + 0.000907 * Math.sin(2 * g) - 0.002697 * Math.cos(3 * g) + 0.00148 * Math.sin(3 * g);

  // True solar time in minutes (time zone 0: we work in UTC), then the hour angle.
  const trueSolarMin = hour * 60 + eqTimeMin + 4 * longitudeDeg;
  const hourAngle = (trueSolarMin / 4 - 180) * DEG;

  const lat = latitudeDeg * DEG;
  const cosZenith = Math.sin(lat) * Math.sin(decl) + Math.cos(lat) * Math.cos(decl) * Math.cos(hourAngle);
  const elevation = Math.asin(Math.max(-1, Math.min(1, cosZenith)));
  // Azimuth measured from south, positive westwards; +π turns it into a compass bearing.
  const fromSouth = Math.atan2(Math.sin(hourAngle), Math.cos(hourAngle) * Math.sin(lat) - Math.tan(decl) * Math.cos(lat));
  const azimuth = fromSouth + Math.PI;
  return { elevation, azimuth, cosZenith, dayOfYear };
}

export interface ClearSky {
  /** Direct normal irradiance, W/m². */
  readonly dni: number;
  /** Diffuse horizontal irradiance, W/m². */
  readonly dhi: number;
  /** Global horizontal irradiance, W/m². */
  readonly ghi: number;
}

const DARK: ClearSky = { dni: 0, dhi: 0, ghi: 0 };

export function clearSky(sun: SunPosition): ClearSky {
  if (sun.elevation <= 0) return DARK;
  const zenithDeg = 90 - sun.elevation / DEG;
  const airMass = 1 / (sun.cosZenith + 0.50572 * Math.pow(96.07995 - zenithDeg, -1.6364));
  // Sun–Earth distance varies ±3.3 % over the year.
  const extraterrestrial = SOLAR_CONSTANT * (1 + 0.033 * Math.cos((2 * Math.PI * sun.dayOfYear) / 365));
  const dni = extraterrestrial * Math.pow(0.7, Math.pow(airMass, 0.678));
  const dhi = 0.1 * dni;
  return { dni, dhi, ghi: dni * sun.cosZenith + dhi };
}

export interface Plane {
  /** Tilt from horizontal, radians. */
  readonly tilt: number;
  /** Compass direction the plane faces, radians clockwise from north. */
  readonly azimuth: number;
}

/** cos of the angle between the sun and the plane's normal (negative: sun behind the plane). */
export function cosIncidence(sun: SunPosition, plane: Plane): number {
  const sinZenith = Math.sqrt(Math.max(0, 1 - sun.cosZenith * sun.cosZenith));
  return sun.cosZenith * Math.cos(plane.tilt) + sinZenith * Math.sin(plane.tilt) * Math.cos(sun.azimuth - plane.azimuth);
}

export interface PlaneIrradiance {
  /** Beam (direct) part on the plane, W/m². */
  readonly beam: number;
  /** Sky-diffuse and ground-reflected part on the plane, W/m². */
  readonly diffuse: number;
}

/** Isotropic-sky transposition of given horizontal components onto a plane. */
export function onPlane(sun: SunPosition, plane: Plane, dni: number, dhi: number, albedo = 0.2): PlaneIrradiance {
  if (sun.elevation <= 0) return { beam: 0, diffuse: 0 };
  const beam = dni * Math.max(0, cosIncidence(sun, plane));
  const ghi = dni * sun.cosZenith + dhi;
  const cosTilt = Math.cos(plane.tilt);
  return { beam, diffuse: (dhi * (1 + cosTilt)) / 2 + (ghi * albedo * (1 - cosTilt)) / 2 };
}
