/**
 * A metering point's quarter hours from the readings of the devices on it: pure functions over
 * plain data (the service loads and stores).
 *
 * How devices on one site are combined:
 * - Every register is differenced per device, never across devices: two readers on one site are
 *   two series, not one series that jumps between them.
 * - Import and export (the grid balance) come from the site's billing meter only. A billing meter
 *   replaced by another (the old one unbound, the new one bound) continues the series: the change
 *   of device counts as a meter exchange, and the later device supersedes the earlier one from its
 *   first reading, so two meters never alternate.
 * - PV comes from the site's production devices (PV inverters), battery charge and discharge from
 *   its storage devices, each differenced per device and summed; where a site has no device in
 *   that role, a billing meter that reports the series itself (a reader wired to the inverter)
 *   gives it.
 * - Sub-loads (sub-meters, EV chargers, heat pumps) are recorded but feed none of these.
 * - Heat pumps (devices of kind heat-pump, whatever their role) give a series of their own: their
 *   electric energy (their energy.import register, else their power.import), summed per device
 *   like PV. It is only recorded (the forecast of heat demand reads it): it changes no import,
 *   export, PV or battery figure, nor the quarter hour's quality.
 *
 * Plausibility: a quarter hour in which any series exceeds the site's connection capacity × 15
 * minutes cannot be real (a meter fault, a wrong device, a mixed-up register); it is not written
 * as measured but as missing, and reported as a finding with the readings behind it. A heat
 * pump's figure beyond it is missing on its own (it feeds no balance), also with a finding.
 */
import { type DeviceRole, worst, type Quality } from '../../kernel/energy.js';
import { ceilToInterval, energyFromPower, energyFromRegister, type IntervalEnergy } from './energy.js';
import { QUARTER_HOUR_MS } from '../../kernel/time.js';
export type Series = 'import' | 'export' | 'pv' | 'batteryCharge' | 'batteryDischarge' | 'heatPump';

export const SERIES_QUANTITIES: Readonly<Record<Series, { readonly register: string; readonly power: string }>> = {
  import: { register: 'energy.import', power: 'power.import' },
  export: { register: 'energy.export', power: 'power.export' },
  pv: { register: 'pv.energy', power: 'pv.power' },
  batteryCharge: { register: 'battery.energy.charge', power: 'battery.power.charge' },
  batteryDischarge: { register: 'battery.energy.discharge', power: 'battery.power.discharge' },
  heatPump: { register: 'energy.import', power: 'power.import' },
};
const ALL_SERIES = Object.keys(SERIES_QUANTITIES) as Series[];

export interface Row {
  readonly quantity: string;
  readonly device_id: string;
  readonly ts: Date;
  readonly value: number;
}

/** Which devices give which series at a site, from the roles its devices have (had) there and which of them are heat pumps. */
export type SeriesSources = Readonly<Record<Series, readonly string[]>>;

export function seriesSources(roles: ReadonlyMap<string, DeviceRole>, heatPumps: ReadonlySet<string> = new Set()): SeriesSources {
  const withRole = (role: DeviceRole) => [...roles].filter(([, r]) => r === role).map(([id]) => id).sort();
  const billing = withRole('billing-meter');
  const production = withRole('production');
  const storage = withRole('storage');
  const pv = production.length > 0 ? production : billing;
  const battery = storage.length > 0 ? storage : billing;
  const heatPump = [...roles.keys()].filter((id) => heatPumps.has(id)).sort();
  return { import: billing, export: billing, pv, batteryCharge: battery, batteryDischarge: battery, heatPump };
}

/** Per device, the quantities the interval job needs of it at this site (each once: a heat pump that is the billing meter gives import twice). */
export function quantitiesByDevice(sources: SeriesSources): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const series of ALL_SERIES) {
    for (const device of sources[series]) {
      const own = out.get(device) ?? new Set<string>();
      own.add(SERIES_QUANTITIES[series].register).add(SERIES_QUANTITIES[series].power);
      out.set(device, own);
    }
  }
  return new Map([...out].map(([device, quantities]) => [device, [...quantities]]));
}

export interface IntervalRow {
  start: number;
  importWh: number | null;
  exportWh: number | null;
  pvWh: number | null;
  batteryChargeWh: number | null;
  batteryDischargeWh: number | null;
  /** Electric energy of the site's heat pumps (recorded only: in none of the figures above). */
  heatPumpWh: number | null;
  quality: Quality;
}

export interface ReadingRef {
  readonly deviceId: string;
  readonly quantity: string;
  readonly ts: string;
  readonly value: number;
}

/** A quarter hour of a series beyond the site's physical limit, and what it came from. */
export interface Finding {
  readonly start: number;
  readonly series: Series;
  readonly energyWh: number;
  readonly limitWh: number;
  readonly deviceIds: readonly string[];
  readonly readings: readonly ReadingRef[];
}

export interface SiteInput {
  readonly rows: readonly Row[];
  /** Recorded meter exchanges per device. */
  readonly exchanges: ReadonlyMap<string, readonly number[]>;
  readonly sources: SeriesSources;
  /** The most energy one quarter hour can physically carry at this site, in Wh. */
  readonly limitWh: number;
}

const sortByTime = (rows: readonly Row[]) => [...rows].sort((a, b) => a.ts.getTime() - b.ts.getTime());

/**
 * One series from rows of one or several devices, in time order; a change of device is an
 * exchange. Devices take over from each other, never alternate: each device counts from its first
 * reading until the next device's first reading (a replaced meter ends where its successor
 * starts; should two ever overlap, the later one supersedes the earlier).
 */
function chain(rows: readonly Row[], exchanges: ReadonlyMap<string, readonly number[]>) {
  const firstOf = new Map<string, number>();
  for (const row of rows) firstOf.set(row.device_id, Math.min(firstOf.get(row.device_id) ?? Infinity, row.ts.getTime()));
  const starts = [...firstOf].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  const until = new Map(starts.map(([device], i) => [device, starts[i + 1]?.[1] ?? Infinity]));
  const own = sortByTime(rows.filter((r) => r.ts.getTime() < until.get(r.device_id)!));
  const breaks = [...new Set(own.map((r) => r.device_id))].flatMap((d) => exchanges.get(d) ?? []);
  for (let i = 1; i < own.length; i++) if (own[i]!.device_id !== own[i - 1]!.device_id) breaks.push(own[i]!.ts.getTime());
  return { samples: own.map((r) => ({ ts: r.ts.getTime(), value: r.value })), exchanges: breaks };
}

/** Register differences if there is a register, else integrated power, for rows that form one series. */
function energyOfSeries(rows: readonly Row[], series: Series, from: number, to: number, exchanges: ReadonlyMap<string, readonly number[]>): IntervalEnergy[] | undefined {
  const register = rows.filter((r) => r.quantity === SERIES_QUANTITIES[series].register);
  if (register.length > 0) {
    const c = chain(register, exchanges);
    return energyFromRegister(c.samples, from, to, { exchanges: c.exchanges });
  }
  const power = rows.filter((r) => r.quantity === SERIES_QUANTITIES[series].power);
  if (power.length > 0) return energyFromPower(chain(power, new Map()).samples, from, to);
  return undefined;
}

/** Σ over devices per interval: known only where every device that reports the series is known. */
function sumOverDevices(perDevice: readonly IntervalEnergy[][]): IntervalEnergy[] | undefined {
  if (perDevice.length === 0) return undefined;
  if (perDevice.length === 1) return perDevice[0];
  return perDevice[0]!.map((first, i) => {
    const parts = perDevice.map((d) => d[i]!);
    if (parts.some((p) => p.wh === null)) return { start: first.start, wh: null, quality: 'missing' as const };
    return { start: first.start, wh: parts.reduce((s, p) => s + p.wh!, 0), quality: worst(...parts.map((p) => p.quality)) };
  });
}

function energyOf(input: SiteInput, rowsOf: (devices: readonly string[]) => Row[], series: Series, from: number, to: number): IntervalEnergy[] | undefined {
  const devices = input.sources[series];
  // The billing meter's series continues across a replaced meter; other roles add up per device.
  if (series === 'import' || series === 'export') return energyOfSeries(rowsOf(devices), series, from, to, input.exchanges);
  return sumOverDevices(devices.map((d) => energyOfSeries(rowsOf([d]), series, from, to, input.exchanges)).filter((e): e is IntervalEnergy[] => !!e));
}

const MAX_READINGS_PER_FINDING = 12;

/**
 * The readings behind a quarter hour of a series, as the computation used them: the last before
 * it, the first and last in it per device (those that bracket its boundaries), the first after it.
 */
function evidence(rows: readonly Row[], start: number): ReadingRef[] {
  const end = start + QUARTER_HOUR_MS;
  const sorted = sortByTime(rows);
  const before = sorted.filter((r) => r.ts.getTime() <= start).slice(-1);
  const inside = sorted.filter((r) => r.ts.getTime() > start && r.ts.getTime() < end);
  const after = sorted.filter((r) => r.ts.getTime() >= end).slice(0, 1);
  const kept = inside.length + 2 > MAX_READINGS_PER_FINDING
    ? [...inside.slice(0, MAX_READINGS_PER_FINDING / 2 - 1), ...inside.slice(-(MAX_READINGS_PER_FINDING / 2 - 1))]
    : inside;
  return [...before, ...kept, ...after].map((r) => ({ deviceId: r.device_id, quantity: r.quantity, ts: r.ts.toISOString(), value: r.value }));
}

/** The intervals of one metering point in [from, to) from its devices' readings, and the quarter hours found implausible. */
export function computeSiteIntervals(input: SiteInput, from: number, to: number): { rows: IntervalRow[]; findings: Finding[] } {
  const relevant = new Map<string, Set<string>>();
  for (const [device, quantities] of quantitiesByDevice(input.sources)) relevant.set(device, new Set(quantities));
  const rows = input.rows.filter((r) => relevant.get(r.device_id)?.has(r.quantity));
  if (rows.length === 0) return { rows: [], findings: [] };
  // Intervals after the newest reading are not known yet: they are not written at all.
  const newest = Math.max(...rows.map((r) => r.ts.getTime()));
  const end = Math.min(to, ceilToInterval(newest));
  if (end <= from) return { rows: [], findings: [] };
  const byDevice = new Map<string, Row[]>();
  for (const row of rows) byDevice.set(row.device_id, [...(byDevice.get(row.device_id) ?? []), row]);
  const rowsOf = (devices: readonly string[]) => devices.flatMap((d) => byDevice.get(d) ?? []);
  const energy = Object.fromEntries(ALL_SERIES.map((s) => [s, energyOf(input, rowsOf, s, from, end)])) as Record<Series, IntervalEnergy[] | undefined>;
  if (ALL_SERIES.every((s) => !energy[s])) return { rows: [], findings: [] };

  const computed: IntervalRow[] = [];
  const findings: Finding[] = [];
  for (let i = 0, t = from; t < end; i++, t += QUARTER_HOUR_MS) {
    const im = energy.import?.[i];
    const ex = energy.export?.[i];
    const row: IntervalRow = {
      start: t,
      importWh: im?.wh ?? null,
      exportWh: ex?.wh ?? null,
      pvWh: energy.pv?.[i]?.wh ?? null,
      batteryChargeWh: energy.batteryCharge?.[i]?.wh ?? null,
      batteryDischargeWh: energy.batteryDischarge?.[i]?.wh ?? null,
      heatPumpWh: energy.heatPump?.[i]?.wh ?? null,
      quality: worst(...[im, ex].filter((x): x is IntervalEnergy => !!x).map((x) => x.quality)),
    };
    const beyond = ALL_SERIES.filter((s) => (energy[s]?.[i]?.wh ?? 0) > input.limitWh);
    for (const series of beyond) {
      const quantities = new Set([SERIES_QUANTITIES[series].register, SERIES_QUANTITIES[series].power]);
      const readings = evidence(rowsOf(input.sources[series]).filter((r) => quantities.has(r.quantity)), t);
      findings.push({
        start: t, series, energyWh: energy[series]![i]!.wh!, limitWh: input.limitWh,
        deviceIds: [...new Set(readings.map((r) => r.deviceId))], readings,
      });
    }
    // Not plausible: never shared as measured; the finding says why. A heat pump's own figure
    // voids only itself; any other voids the quarter hour.
    const heatPumpWh = beyond.includes('heatPump') ? null : row.heatPumpWh;
    computed.push(beyond.every((s) => s === 'heatPump') ? { ...row, heatPumpWh } : {
      start: t, importWh: null, exportWh: null, pvWh: null, batteryChargeWh: null, batteryDischargeWh: null, heatPumpWh: null, quality: 'missing',
    });
  }
  return { rows: computed, findings };
}
