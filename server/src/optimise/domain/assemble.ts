import { parsePrice } from '../../kernel/money.js';
import { formatFixed } from '../../kernel/decimal.js';
import type { LocalClock } from '../../kernel/calendar.js';
import { DAY_MS, QUARTER_HOUR_MS, ceilToQuarterHour } from '../../kernel/time.js';
import type { ObjectiveWeights } from './assets/index.js';
import type { SolveSettings } from './solve-report.js';
import type { DeviceSpecs } from '@gridshare/contract/registry';
import { applianceLimits, evLimits, heatPumpLimits, isControllableKind, nextLocalTime, overridden, type ControllableKind, type Limits } from './control.js';
import { applianceRun, batteryTechnical, chargerTechnical, heatPumpTechnical, type Sources } from './technical.js';

/**
 * The community as a scenario, pure: its metering points (sites), their consumption and PV
 * forecasts, the devices members let the plan control (within their limits, unless overridden),
 * appliance start requests and the tariff in force, mapped to `parseScenario` input plus the
 * bindings that say which asset is which device. Prices: a site buys and sells at the community
 * price, the community's connection adds what the public grid costs beyond it (SCENARIO.md).
 */

export interface TariffInput {
  readonly gridPrice: string;
  readonly communityPrice: string;
  readonly feedInPrice: string;
  /** ISO days 1 (Monday) … 7. */
  readonly timeOfUse: readonly { readonly days: readonly number[]; readonly from: string; readonly to: string; readonly gridPrice: string }[] | null;
}

export interface PointInput {
  readonly id: string;
  readonly memberId: string;
  readonly name: string;
  readonly communityBattery: boolean;
  readonly batteryCapacityWh: number | null;
  /** What its connection may import and export, W (registry: its capacity, its export limit); none: no limit. */
  readonly importLimitW?: number | null;
  readonly exportLimitW?: number | null;
}

export interface DeviceInput {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly meteringPointId: string | null;
  readonly controllable: boolean;
  readonly limits: Limits;
  /** Its technical data as registry records it (used before the defaults; the limits narrow it); none: defaults. */
  readonly specs?: DeviceSpecs | null;
  readonly overrideUntilMs: number | null;
}

export interface RequestInput {
  readonly id: string;
  readonly deviceId: string;
  readonly earliestStartMs: number;
  readonly readyByMs: number;
  /** Set once a plan started it. */
  readonly startsAtMs: number | null;
}

/** A point's forecasts over the horizon, W per step; null where none covers a step. */
export interface PointForecasts {
  readonly consumption?: readonly (number | null)[];
  readonly production?: readonly (number | null)[];
  readonly heat?: readonly (number | null)[];
}

/** Where a device was when the last plan left it. */
export interface DeviceState {
  readonly socWh?: number;
  readonly temperatureC?: number;
}

/** A battery's or an EV's state of charge as its device reported it: a share of its capacity, and when. */
export interface MeasuredSoc {
  readonly soc: number;
  readonly atMs: number;
}

/** A heat pump's tank temperature as the device reported it, and when. */
export interface MeasuredTemperature {
  readonly temperatureC: number;
  readonly atMs: number;
}

/** Where a starting state came from: the device's report, where the last plan left it, or a default. */
export type StateSource = 'measured' | 'previous-plan' | 'default';

/**
 * Where a battery's initial state of charge came from (default: half full); for an EV, its state of
 * charge at connection in the horizon's first session (default: 30 %; measured or from the last plan
 * only for a session under way at the horizon's start).
 */
export interface InitialSoc {
  readonly soc: number;
  readonly source: StateSource;
  /** When the device measured it (source `measured`). */
  readonly measuredAtMs?: number;
}

/** Where a heat pump's initial tank temperature came from (default: the middle of the comfort band). */
export interface InitialTemperature {
  readonly temperatureC: number;
  readonly source: StateSource;
  readonly measuredAtMs?: number;
}

export interface AssemblyInput {
  readonly name: string;
  readonly timeZone: string;
  readonly clock: LocalClock;
  readonly currency: string;
  readonly nowMs: number;
  readonly steps: number;
  readonly weights: ObjectiveWeights;
  readonly tariff: TariffInput | undefined;
  readonly points: readonly PointInput[];
  /** The community's connection to the public grid as a whole, W; null: no limit. */
  readonly communityLimits?: { readonly importLimitW: number | null; readonly exportLimitW: number | null };
  readonly devices: readonly DeviceInput[];
  readonly requests: readonly RequestInput[];
  readonly forecasts: ReadonlyMap<string, PointForecasts>;
  readonly state: ReadonlyMap<string, DeviceState>;
  /** Batteries' and EV chargers' recent reports, by device; a report wins over where the last plan left it. */
  readonly measuredSoc?: ReadonlyMap<string, MeasuredSoc>;
  /** Heat pumps' recent tank temperatures, by device; a report wins over where the last plan left the tank. */
  readonly measuredTemperature?: ReadonlyMap<string, MeasuredTemperature>;
  readonly solver: Partial<SolveSettings>;
}

/** Which device (and site, member, request) an asset of the scenario stands for. */
export interface Binding {
  /** "<site id>/<asset id>"; the community's own assets under "community/". */
  readonly key: string;
  readonly name: string;
  readonly type: string;
  readonly deviceId: string | null;
  /** The kind when the plan controls the device through this asset. */
  readonly controls: ControllableKind | null;
  readonly meteringPointId: string | null;
  readonly memberId: string | null;
  readonly requestId?: string;
  /** A battery's: the state of charge it starts the horizon with; an EV's: at connection in the first session; and where that came from. */
  readonly initialSoc?: InitialSoc;
  /** A device's technical values in the scenario and where each came from (device, site, member-limit, default). */
  readonly technical?: Sources;
  /** A heat pump's: the tank temperature it starts the horizon with, and where that came from. */
  readonly initialTemperature?: InitialTemperature;
}

export interface Assembly {
  readonly startMs: number;
  readonly scenario: Record<string, unknown>;
  readonly bindings: readonly Binding[];
  /** Devices left to what they do without a plan at this start (manual override). */
  readonly overridden: readonly string[];
}

const RUN_EFFICIENCY = 0.9;
/** An EV connects with this share of its capacity, unless its charger reports it for a session under way. */
const EV_CONNECT_SOC = 0.3;

/** The horizon of a plan made at `nowMs`: from the next quarter hour. */
export const horizonStart = (nowMs: number): number => ceilToQuarterHour(nowMs);

/** Steps without a forecast take the same step a day later or earlier, else the nearest known one, else 0. */
export function fillGaps(values: readonly (number | null)[] | undefined, steps: number): number[] {
  const day = DAY_MS / QUARTER_HOUR_MS;
  const known = (t: number) => (t >= 0 && t < steps && values?.[t] !== null && values?.[t] !== undefined ? Math.max(0, values[t]!) : undefined);
  return Array.from({ length: steps }, (_, t) => {
    const direct = known(t) ?? known(t + day) ?? known(t - day);
    if (direct !== undefined) return Math.round(direct);
    for (let d = 1; d < steps; d++) {
      const near = known(t - d) ?? known(t + d);
      if (near !== undefined) return Math.round(near);
    }
    return 0;
  });
}

const micro = (text: string) => parsePrice(text);
const priceText = (value: bigint) => formatFixed(value, 6);
const ISO_DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

function communityGrid(tariff: TariffInput | undefined): Record<string, unknown> {
  if (!tariff) return {};
  const community = micro(tariff.communityPrice);
  const beyond = (grid: string) => priceText(micro(grid) - community);
  return {
    importPrice: tariff.timeOfUse && tariff.timeOfUse.length > 0
      ? {
        default: beyond(tariff.gridPrice),
        periods: tariff.timeOfUse.map((w) => ({ from: w.from, to: w.to, days: w.days.map((d) => ISO_DAYS[d % 7]!), price: beyond(w.gridPrice) })),
      }
      : beyond(tariff.gridPrice),
    exportPrice: beyond(tariff.feedInPrice),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

export function assembleScenario(input: AssemblyInput): Assembly {
  const startMs = horizonStart(input.nowMs);
  const T = input.steps;
  const endMs = startMs + T * QUARTER_HOUR_MS;
  const bindings: Binding[] = [];
  const overriddenIds: string[] = [];
  const communityAssets: Record<string, unknown>[] = [];
  const active = (d: DeviceInput) => {
    if (!d.controllable || !isControllableKind(d.kind)) return false;
    if (overridden(d.overrideUntilMs, startMs)) {
      overriddenIds.push(d.id);
      return false;
    }
    return true;
  };
  const controlled = input.devices.filter(active);
  const counters = new Map<string, number>();
  const nextId = (site: string, type: string) => {
    const n = (counters.get(`${site}/${type}`) ?? 0) + 1;
    counters.set(`${site}/${type}`, n);
    return `${type}-${n}`;
  };

  const sites = input.points.map((point, index) => {
    const siteId = `site-${index + 1}`;
    const forecast = input.forecasts.get(point.id) ?? {};
    const own = controlled.filter((d) => d.meteringPointId === point.id);
    const heatPumps = own.filter((d) => d.kind === 'heat-pump');
    const heatW = fillGaps(forecast.heat, T);
    // A controlled heat pump is planned as its own asset: its forecast power leaves the consumption.
    const consumption = fillGaps(forecast.consumption, T).map((w, t) => Math.max(0, w - (heatPumps.length > 0 ? heatW[t]! : 0)));
    const assets: Record<string, unknown>[] = [];
    const bind = (
      asset: Record<string, unknown> & { id: string; type: string }, name: string, device: DeviceInput | null,
      options: { shared?: boolean; requestId?: string; fixed?: boolean; initialSoc?: InitialSoc; initialTemperature?: InitialTemperature; technical?: Sources } = {},
    ) => {
      (options.shared ? communityAssets : assets).push(asset);
      bindings.push({
        key: `${options.shared ? 'community' : siteId}/${asset.id}`, name, type: asset.type, deviceId: device?.id ?? null,
        // A fixed load (an appliance's run under way) is the device's, but the plan does not steer it.
        controls: device && !options.fixed && isControllableKind(device.kind) ? device.kind : null, meteringPointId: point.id, memberId: point.memberId,
        ...(options.requestId ? { requestId: options.requestId } : {}),
        ...(options.initialSoc ? { initialSoc: options.initialSoc } : {}),
        ...(options.initialTemperature ? { initialTemperature: options.initialTemperature } : {}),
        ...(options.technical ? { technical: options.technical } : {}),
      });
    };
    if (consumption.some((w) => w > 0)) bind({ type: 'load', id: 'load', powerW: consumption }, point.name, null);
    const production = fillGaps(forecast.production, T);
    if (production.some((w) => w > 0)) {
      const inverter = own.find((d) => d.kind === 'inverter');
      bind({ type: 'producer', id: 'pv', forecastW: production, curtailable: inverter !== undefined, source: 'pv' }, inverter?.name ?? point.name, inverter ?? null);
    }
    for (const device of own) {
      const state = input.state.get(device.id) ?? {};
      if (device.kind === 'battery') {
        const b = batteryTechnical(device.specs ?? {}, device.limits, point.batteryCapacityWh);
        const initial = batteryStart(input.measuredSoc?.get(device.id), state.socWh, b.capacityWh);
        const initialSoc = initial.soc;
        bind({
          type: 'storage', id: nextId(point.communityBattery ? 'community' : siteId, 'battery'), capacityWh: b.capacityWh, maxChargeW: b.maxChargeW, maxDischargeW: b.maxDischargeW,
          chargeEfficiency: b.efficiency, dischargeEfficiency: b.efficiency,
          socMin: Math.min(b.reserveSoc, initialSoc), initialSoc, terminalSoc: Math.max(b.reserveSoc, Math.min(initialSoc, 0.5)),
        }, device.name, device, { shared: point.communityBattery, initialSoc: initial, technical: b.sources });
      } else if (device.kind === 'ev-charger') {
        const charger = chargerTechnical(device.specs ?? {}, device.limits);
        const ev = { ...evLimits(device.limits), maxPowerW: charger.maxPowerW };
        const { sessions, initialSoc } = evSessions(input.clock, ev, startMs, endMs, input.measuredSoc?.get(device.id), state.socWh);
        if (sessions.length > 0) {
          bind({
            type: 'ev', id: nextId(siteId, 'ev'), capacityWh: ev.capacityWh, maxPowerW: ev.maxPowerW, ...(charger.minPowerW > 0 ? { minPowerW: charger.minPowerW } : {}),
            efficiency: RUN_EFFICIENCY, sessions,
          }, device.name, device, { technical: charger.sources, initialSoc: initialSoc! });
        }
      } else if (device.kind === 'heat-pump') {
        const hp = heatPumpLimits(device.limits);
        const tech = heatPumpTechnical(device.specs ?? {}, device.limits);
        // The demand the heat pump met, as heat; never more than it can deliver.
        const demand = heatW.map((w) => Math.round(Math.min(w, tech.maxElectricW * 0.8) * tech.cop));
        const middle = (hp.comfortMinC + hp.comfortMaxC) / 2;
        const initialTemperature = tankStart(input.measuredTemperature?.get(device.id), state.temperatureC, middle);
        // The model keeps the tank in the band: a tank measured outside it starts at the nearer bound.
        const initial = Math.min(hp.comfortMaxC, Math.max(hp.comfortMinC, initialTemperature.temperatureC));
        bind({
          type: 'heat-pump', id: nextId(siteId, 'heat-pump'), maxElectricW: tech.maxElectricW, cop: tech.cop, tankVolumeL: tech.tankLitres,
          tempMinC: hp.comfortMinC, tempMaxC: hp.comfortMaxC, initialTempC: Math.round(initial * 100) / 100, terminalTempC: Math.round(Math.min(initial, middle) * 100) / 100,
          lossWPerK: tech.tankLossWPerK, ambientC: 20, heatDemandW: demand,
        }, device.name, device, { technical: tech.sources, initialTemperature });
      } else if (device.kind === 'smart-plug') {
        const run = { ...applianceLimits(device.limits), ...applianceRun(device.specs ?? {}, device.limits) };
        const runMs = run.runPowerW.length * QUARTER_HOUR_MS;
        for (const request of input.requests.filter((r) => r.deviceId === device.id)) {
          if (request.startsAtMs !== null) {
            // Started by an earlier plan: what is left of its run is a fixed load.
            const powerW = Array.from({ length: T }, (_, t) => {
              const k = Math.round((startMs + t * QUARTER_HOUR_MS - request.startsAtMs!) / QUARTER_HOUR_MS);
              return k >= 0 && k < run.runPowerW.length ? run.runPowerW[k]! : 0;
            });
            if (powerW.some((w) => w > 0)) bind({ type: 'load', id: nextId(siteId, 'running'), powerW }, device.name, device, { requestId: request.id, fixed: true });
            continue;
          }
          let earliest = Math.max(startMs, ceilToQuarterHour(request.earliestStartMs));
          if (run.windowStart !== run.windowEnd && !inWindow(input.clock, earliest, run.windowStart, run.windowEnd)) earliest = nextLocalTime(input.clock, earliest, run.windowStart);
          // Late already: it starts as soon as it may.
          const readyBy = Math.max(request.readyByMs, earliest + runMs);
          if (earliest + runMs > endMs) continue;
          bind({
            type: 'appliance', id: nextId(siteId, 'appliance'), profileW: [...run.runPowerW], earliestStart: iso(earliest),
            ...(readyBy < endMs ? { readyBy: iso(Math.floor(readyBy / QUARTER_HOUR_MS) * QUARTER_HOUR_MS) } : {}),
          }, device.name, device, { requestId: request.id, technical: run.sources });
        }
      }
    }
    return { id: siteId, member: point.memberId, assets, limits: connectionLimits(point.importLimitW, point.exportLimitW) };
  });

  const scenario: Record<string, unknown> = {
    name: input.name.slice(0, 200),
    start: iso(startMs),
    steps: T,
    stepMinutes: 15,
    timeZone: input.timeZone,
    currency: input.currency,
    objective: input.weights,
    solver: input.solver,
    community: {
      grid: { ...communityGrid(input.tariff), ...connectionLimits(input.communityLimits?.importLimitW, input.communityLimits?.exportLimitW) },
      assets: communityAssets,
    },
    sites: sites.map(({ limits, ...s }) => ({
      ...s,
      grid: { ...(input.tariff ? { importPrice: input.tariff.communityPrice, exportPrice: input.tariff.communityPrice } : {}), ...limits },
    })),
  };
  return { startMs, scenario, bindings, overridden: overriddenIds };
}

/** A connection's limits as scenario fields (one value for every step); none where there is no limit. */
const connectionLimits = (importLimitW: number | null | undefined, exportLimitW: number | null | undefined): Record<string, number> => ({
  ...(importLimitW != null ? { importLimitW } : {}),
  ...(exportLimitW != null ? { exportLimitW } : {}),
});

/** A battery starts from its device's report if there is one, else where the last plan left it, else half full. */
function batteryStart(measured: MeasuredSoc | undefined, plannedWh: number | undefined, capacityWh: number): InitialSoc {
  const share = (value: number) => Math.min(1, Math.max(0, value));
  if (measured) return { soc: share(measured.soc), source: 'measured', measuredAtMs: measured.atMs };
  if (plannedWh !== undefined) return { soc: share(plannedWh / capacityWh), source: 'previous-plan' };
  return { soc: 0.5, source: 'default' };
}

/** A tank starts from its device's report if there is one, else where the last plan left it, else mid-band. */
function tankStart(measured: MeasuredTemperature | undefined, plannedC: number | undefined, middleC: number): InitialTemperature {
  if (measured) return { temperatureC: measured.temperatureC, source: 'measured', measuredAtMs: measured.atMs };
  if (plannedC !== undefined) return { temperatureC: plannedC, source: 'previous-plan' };
  return { temperatureC: middleC, source: 'default' };
}

function inWindow(clock: LocalClock, atMs: number, from: string, to: string): boolean {
  const minute = clock.local(atMs).minute;
  const a = Number(from.slice(0, 2)) * 60 + Number(from.slice(3));
  const b = Number(to.slice(0, 2)) * 60 + Number(to.slice(3));
  return a < b ? minute >= a && minute < b : minute >= a || minute < b;
}

/**
 * The EV's charging sessions in the horizon: plugged in daily from `pluggedInFrom` until `readyBy`.
 * A session under way at the start begins from the charger's report, else from where the last plan
 * left the car; the first session's state of charge at connection is returned with its source.
 */
function evSessions(clock: LocalClock, ev: ReturnType<typeof evLimits>, startMs: number, endMs: number, measured: MeasuredSoc | undefined, socWh: number | undefined) {
  const sessions: Record<string, unknown>[] = [];
  let initialSoc: InitialSoc | undefined;
  let arrival = nextLocalTime(clock, startMs - DAY_MS, ev.pluggedInFrom);
  const connectWh = Math.round(ev.capacityWh * EV_CONNECT_SOC);
  const targetWh = Math.min(ev.capacityWh, connectWh + ev.minChargeWh);
  while (arrival < endMs) {
    const departure = nextLocalTime(clock, arrival + 60_000, ev.readyBy);
    const from = ceilToQuarterHour(Math.max(arrival, startMs));
    const until = Math.floor(departure / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
    if (until - from >= QUARTER_HOUR_MS) {
      // A session under way starts from the charger's report or where the last plan left the car; what is left must fit the time left.
      const ongoing = arrival < startMs;
      const start: InitialSoc = ongoing && measured ? { soc: Math.min(1, Math.max(0, measured.soc)), source: 'measured', measuredAtMs: measured.atMs }
        : ongoing && socWh !== undefined ? { soc: Math.min(1, Math.max(0, socWh / ev.capacityWh)), source: 'previous-plan' }
          : { soc: EV_CONNECT_SOC, source: 'default' };
      initialSoc ??= start;
      const atConnection = start.source === 'default' ? connectWh : Math.round(start.soc * ev.capacityWh);
      const possible = Math.floor(((((until - from) / QUARTER_HOUR_MS) * ev.maxPowerW) / 4) * RUN_EFFICIENCY * 0.95);
      sessions.push({
        arrival: iso(from), departure: iso(until),
        socAtConnectionWh: atConnection, energyNeededWh: Math.max(0, Math.min(targetWh - atConnection, possible)),
      });
    }
    arrival = nextLocalTime(clock, arrival + DAY_MS - 60_000, ev.pluggedInFrom);
  }
  return { sessions, initialSoc };
}

