/** What the simulator is told about each metering point in the street. */

export interface HouseholdSite {
  readonly kind: 'household';
  /** Unique within the neighbourhood; also seeds the home's traits, so renaming changes its habits. */
  readonly name: string;
  /** Rooftop PV peak power, W. */
  readonly pvPeakW?: number;
  /** Car charger rating, W, if the home charges an electric car. */
  readonly evChargerW?: number;
  /** Target yearly consumption, kWh; drawn from the seed when absent. */
  readonly annualKWh?: number;
}

export interface LibrarySite {
  readonly kind: 'library';
  readonly name: string;
  readonly pvPeakW: number;
}

export interface BatterySite {
  readonly kind: 'battery';
  readonly name: string;
  readonly capacityWh: number;
  readonly maxPowerW: number;
}

export type SiteSpec = HouseholdSite | LibrarySite | BatterySite;

/**
 * What a device reports of its site: `all` (a reader that sees everything the site meters),
 * `grid` (the grid meter alone: import and export), `pv` (the PV inverter alone: PV energy and power).
 */
export const DEVICE_READINGS = ['all', 'grid', 'pv'] as const;
export type DeviceReadings = (typeof DEVICE_READINGS)[number];

/** A device of the street: the site it measures and what it reports of it (several devices may share a site). */
export interface StreetDevice {
  readonly site: SiteSpec;
  readonly readings: DeviceReadings;
}

export const SUNNY_STREET = {
  latitude: 48.1734,
  longitude: 16.3808,
  timeZone: 'Europe/Vienna',
} as const;

/** Homes that charge a car at home (a few, with and without PV) and their chargers, W. */
const SUNNY_STREET_CARS: ReadonlyMap<number, number> = new Map([
  [4, 3_700],
  [9, 11_000],
  [14, 3_700],
  [22, 11_000],
  [27, 3_700],
]);

/** The second site of household 2 (its garden house, with a meter of its own). */
export const GARDEN_HOUSE = 'Sunny Street 2, garden house';
/** The household whose site has a PV inverter reporting beside its grid meter. */
export const SITE_WITH_INVERTER = 'Sunny Street 3';

/**
 * The demo community "Sunny Street" in the order `server/src/demo/seed.ts` creates its
 * metering points (and devices demo-001 … demo-033): 30 households, every third with PV of
 * 5–8 kWp, then the library with 60 kWp, then the 100 kWh community battery, then household
 * 2's garden house (its second site).
 */
export function sunnyStreetSites(): SiteSpec[] {
  const sites: SiteSpec[] = [];
  for (let n = 1; n <= 30; n++) {
    const car = SUNNY_STREET_CARS.get(n);
    sites.push({
      kind: 'household',
      name: `Sunny Street ${n}`,
      ...(n % 3 === 0 ? { pvPeakW: 5_000 + (n % 4) * 1_000 } : {}),
      ...(car ? { evChargerW: car } : {}),
    });
  }
  sites.push({ kind: 'library', name: 'District library', pvPeakW: 60_000 });
  sites.push({ kind: 'battery', name: 'Community battery', capacityWh: 100_000, maxPowerW: 50_000 });
  sites.push({ kind: 'household', name: GARDEN_HOUSE, annualKWh: 900 });
  return sites;
}

/**
 * The demo's devices, demo-001 … demo-034: one per site in `sunnyStreetSites()` order, then the
 * PV inverter of Sunny Street 3, whose grid meter (demo-003) then reports import and export only.
 */
export function sunnyStreetDevices(): StreetDevice[] {
  const sites = sunnyStreetSites();
  const devices: StreetDevice[] = sites.map((site) => ({ site, readings: site.name === SITE_WITH_INVERTER ? 'grid' : 'all' }));
  devices.push({ site: sites.find((site) => site.name === SITE_WITH_INVERTER)!, readings: 'pv' });
  return devices;
}

/** The quantities a device reports of its site's readings. */
export function reportedBy(readings: DeviceReadings): (quantity: string) => boolean {
  if (readings === 'grid') return (quantity) => quantity.startsWith('energy.') || quantity.startsWith('power.');
  if (readings === 'pv') return (quantity) => quantity.startsWith('pv.');
  return () => true;
}

/** The distinct sites of a device list (by name), and for each device the index of its site. */
export function sitesOfDevices(devices: readonly { site: SiteSpec }[]): { sites: SiteSpec[]; siteOf: number[] } {
  const sites: SiteSpec[] = [];
  const byName = new Map<string, number>();
  const siteOf = devices.map((device, index) => {
    const known = byName.get(device.site.name);
    if (known !== undefined) {
      if (JSON.stringify(sites[known]) !== JSON.stringify(device.site)) {
        throw new RangeError(`devices[${index}]: site ${JSON.stringify(device.site.name)} is described differently by another device`);
      }
      return known;
    }
    byName.set(device.site.name, sites.length);
    sites.push(device.site);
    return sites.length - 1;
  });
  return { sites, siteOf };
}

/** Throws a RangeError naming the first thing wrong with a site list. */
export function validateSites(sites: readonly SiteSpec[]): void {
  const names = new Set<string>();
  for (const [index, site] of sites.entries()) {
    const at = `sites[${index}]`;
    if (typeof site.name !== 'string' || site.name.length === 0) throw new RangeError(`${at}: a site needs a name`);
    if (names.has(site.name)) throw new RangeError(`${at}: duplicate site name ${JSON.stringify(site.name)}`);
    names.add(site.name);
    const nonNegative = (value: number | undefined, what: string) => {
      if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw new RangeError(`${at}: ${what} must be a number ≥ 0`);
    };
    switch (site.kind) {
      case 'household':
        nonNegative(site.pvPeakW, 'pvPeakW');
        nonNegative(site.evChargerW, 'evChargerW');
        if (site.annualKWh !== undefined && !(Number.isFinite(site.annualKWh) && site.annualKWh > 0)) throw new RangeError(`${at}: annualKWh must be > 0`);
        break;
      case 'library':
        nonNegative(site.pvPeakW, 'pvPeakW');
        break;
      case 'battery':
        if (!(Number.isFinite(site.capacityWh) && site.capacityWh > 0)) throw new RangeError(`${at}: capacityWh must be > 0`);
        if (!(Number.isFinite(site.maxPowerW) && site.maxPowerW > 0)) throw new RangeError(`${at}: maxPowerW must be > 0`);
        break;
      default:
        throw new RangeError(`${at}: unknown kind ${JSON.stringify((site as { kind: unknown }).kind)}`);
    }
  }
}
