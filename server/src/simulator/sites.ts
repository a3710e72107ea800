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

/**
 * The demo community "Sunny Street" in the order `server/src/demo/seed.ts` creates its
 * metering points (and devices demo-001 … demo-032): 30 households, every third with PV of
 * 5–8 kWp, then the library with 60 kWp, then the 100 kWh community battery.
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
  return sites;
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
