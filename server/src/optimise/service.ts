import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import type { PlannedAsset, PlanTrigger } from '@gridshare/contract/optimise';
import { communityDevices, deviceById, loadCommunity, loadTariffs, meteringPointsOfCommunity } from '../registry/index.js';
import { pointForecastsP50 } from '../forecast/index.js';
import { latestReadingsIn } from '../ingest/index.js';
import { loadCoefficientPeriods, loadShareVersions } from '../sharing/index.js';
import { createLocalClock, localDateOf } from '../kernel/calendar.js';
import { MINUTE_MS, QUARTER_HOUR_MS } from '../kernel/time.js';
import type { ObjectiveWeights } from './domain/assets/index.js';
import {
  assembleScenario, horizonStart, type Binding, type InitialSoc, type InitialTemperature, type MeasuredSoc, type MeasuredTemperature,
} from './domain/assemble.js';
import { InfeasibleScenarioError, readSolution } from './domain/build.js';
import { boundAssets, planCommands, stateAt } from './domain/device-commands.js';
import { ScenarioError } from './domain/fields.js';
import { STATE_QUANTITY } from './domain/state-change.js';
import type { Limits } from './domain/control.js';
import { baseline, type Outcome, type PlanDocument } from './domain/plan.js';
import { parseScenario } from './domain/scenario.js';
import { mergeSites, MERGED_SITE_ID } from './domain/merge-sites.js';
import type { NamedSolution } from './domain/warm-start.js';
import { shareByCommunityRule } from './community-sharing.js';
import type { SavingsSharing } from './domain/savings.js';
import { optimise } from './optimise.js';
import type { Solver } from './solver.js';
import {
  controlOfCommunity, insertPlan, latestPlan, markStarted, objectiveOf, applianceRequests, pruneRequests, upsertControl, controlOfDevice, saveWarmStart,
  warmStartOf, type StoredPlan,
} from './store.js';

/** What a W outside an explored target costs per kWh (money-equivalent): far above any energy price, so targets win wherever the assets can meet them. */
export const EXPLORE_SHORTFALL_PER_KWH = 1000;

export interface ExploreRequest {
  /** Quarter hours from the next one. */
  readonly steps: number;
  /** The devices the plan may control (each also needs its member's permission). */
  readonly devices: ReadonlySet<string>;
  /** Metering points whose summed net import is watched (and bounded by `targets`). */
  readonly meteringPointIds: readonly string[];
  /** Bounds on that sum, W, per step of the horizon. */
  readonly targets?: readonly { readonly step: number; readonly minW: number; readonly maxW: number }[];
  readonly shortfallPerKwh?: number;
  readonly timeLimitS?: number;
  /**
   * The most power (W) some devices may draw or give in this plan, narrowing their members' own
   * limits (the smaller wins): what a member allowed a flexibility contract to shift.
   */
  readonly powerLimitsW?: ReadonlyMap<string, number>;
  /**
   * Plan the watched metering points' sites as one where that is exact (domain/merge-sites.ts): the
   * summed import and the cost are the same, the model a fraction of the size; `watchedPoints` is
   * then empty (no site's own import is planned).
   */
  readonly mergeWatched?: boolean;
  /** The instant the plan is made at (default: this service's clock): flex plans on its own clock, which the demo sets back to seed a past day. */
  readonly nowMs?: number;
  /**
   * Without `targets`: bound the plan as the plans in operation are (the target source, flex's
   * accepted orders) when those bounds are on the same metering points as the ones watched here.
   */
  readonly asInOperation?: boolean;
}

/**
 * Soft bounds another capability puts on the plans in operation: the summed net import of some
 * metering points, W per step of the plan's horizon (flex/: the FlexOrders the community accepted).
 */
export interface PlanTargets {
  readonly meteringPointIds: readonly string[];
  readonly targets: readonly { readonly step: number; readonly minW: number; readonly maxW: number }[];
}
/** Asked before every plan in operation with its horizon; undefined: nothing bounds it. */
export type PlanTargetSource = (communityId: string, horizon: { readonly startMs: number; readonly steps: number; readonly stepMinutes: number }) => Promise<PlanTargets | undefined>;

export interface Exploration {
  readonly horizonStartMs: number;
  readonly stepMinutes: number;
  readonly status: string;
  /** The plan's cost (exact nano-units of the community's currency); null without a plan. */
  readonly planCost: bigint | null;
  /** The watched metering points' summed net import per step, W (+ = import). */
  readonly watchedImportW: readonly number[];
  /** Each watched metering point's own net import per step, W, with its member (flex/ records members' baselines from it). */
  readonly watchedPoints: readonly { readonly meteringPointId: string; readonly memberId: string | null; readonly importW: readonly number[] }[];
  readonly problems: readonly string[];
}

/** The objective until a manager picks one: cost. */
export const DEFAULT_WEIGHTS: ObjectiveWeights = { cost: 1, co2PerKg: 0, importPerKwh: 0, exportPerKwh: 0, peakPerKw: 0 };

/** A device's reported state (a battery's or EV's state of charge, a tank's temperature) older than this no longer says where it is: the plan assumes instead. */
export const SOC_READING_MAX_AGE_MS = 30 * MINUTE_MS;

export interface PlanSettings {
  /** The clock (tests move it). */
  readonly now: () => number;
  /** Steps of 15 minutes per plan (96: 24 h). */
  readonly steps: number;
  /** The solver's time limit per plan, s. */
  readonly timeLimitS: number;
  /** Told of every plan stored, its status and solve time (the operator's metrics). */
  readonly onPlanned?: (plan: { status: string; timeS: number }) => void;
}

/**
 * Plans a community: reads its sites, devices, members' control settings, appliance requests,
 * tariff, forecasts and its batteries' reported state of charge, solves (warm-started from the
 * stored solution of its last plan), stores the plan with its inputs and its solution for the
 * next one, and publishes `plan.decided` with the commands for the devices the plan controls.
 * One plan per community at a time in this process (the job's lease keeps other processes out).
 */
export class PlanService {
  private readonly running = new Map<string, Promise<unknown>>();
  private targetSource: PlanTargetSource | undefined;

  constructor(
    private readonly db: Db,
    private readonly events: EventPublisher,
    private readonly solver: Solver,
    readonly settings: PlanSettings,
  ) {}

  /** Lets another capability bound the plans in operation (the composition registers flex/'s accepted orders). */
  useTargets(source: PlanTargetSource): void {
    this.targetSource = source;
  }

  /** Plans the community now; undefined when it has no metering points. */
  plan(communityId: string, trigger: PlanTrigger): Promise<StoredPlan | undefined> {
    const before = this.running.get(communityId) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(() => this.planNow(communityId, trigger));
    this.running.set(communityId, run);
    void run.finally(() => {
      if (this.running.get(communityId) === run) this.running.delete(communityId);
    }).catch(() => undefined);
    return run;
  }

  /**
   * A plan that is not put into operation: the community as `plan` would see it now, over `steps`
   * quarter hours, with only `devices` (of those their members let the plan control) planned —
   * the rest do what they do without a plan — and, optionally, soft bounds on the summed net
   * import of some metering points (`targets`, W per step). Nothing is stored or published: this
   * is what flex/ asks when it prices a flexibility request (with and without the request).
   */
  async explore(communityId: string, request: ExploreRequest): Promise<Exploration | undefined> {
    const nowMs = request.nowMs ?? this.settings.now();
    const prepared = await this.assemble(communityId, nowMs, request.steps, request.devices, request.powerLimitsW);
    if (!prepared) return undefined;
    const { assembly, points } = prepared;
    const pointSites = sitesOf(points, request.meteringPointIds);
    const merging = request.mergeWatched ? mergeSites(assembly.scenario, pointSites) : undefined;
    const watched = merging && merging.merged.length > 0 ? [...pointSites.filter((id) => !merging.merged.includes(id)), MERGED_SITE_ID] : pointSites;
    const scenario = parseScenario(merging?.scenario ?? assembly.scenario);
    const operated = !request.targets && request.asInOperation
      ? await this.targetSource?.(communityId, { startMs: prepared.startMs, steps: request.steps, stepMinutes: 15 })
      : undefined;
    const sameSites = operated !== undefined && operated.meteringPointIds.length === request.meteringPointIds.length
      && operated.meteringPointIds.every((id) => request.meteringPointIds.includes(id));
    const steps = request.targets ?? (sameSites ? operated.targets : undefined);
    const targets = steps && watched.length > 0
      ? { siteIds: watched, steps, shortfallPerKwh: request.shortfallPerKwh ?? EXPLORE_SHORTFALL_PER_KWH }
      : undefined;
    const out = await optimise(scenario, {
      solver: this.solver, settings: { timeLimitS: request.timeLimitS ?? this.settings.timeLimitS }, ...(targets ? { exchangeTargets: targets } : {}),
    });
    const { horizon } = scenario;
    if (!out.result.solution) {
      return { horizonStartMs: horizon.startMs, stepMinutes: horizon.stepMinutes, status: out.result.status, planCost: null, watchedImportW: [], watchedPoints: [], problems: out.problems ?? [] };
    }
    const plan = readSolution(out.built, out.result.solution);
    const siteOf = new Map(plan.sites.flatMap((site) => (site.siteId === null ? [] : [[site.siteId, site] as const])));
    const perHour = 60 / horizon.stepMinutes;
    const watchedImportW = Array.from({ length: horizon.steps }, (_, t) => watched.reduce((sum, id) => {
      const site = siteOf.get(id);
      return site ? sum + (site.importWh[t]! - site.exportWh[t]!) * perHour : sum;
    }, 0));
    const watchedPoints = merging && merging.merged.length > 0 ? [] : request.meteringPointIds.flatMap((meteringPointId) => {
      const index = points.findIndex((p) => p.id === meteringPointId);
      const site = siteOf.get(`site-${index + 1}`);
      if (index < 0 || !site) return [];
      return [{ meteringPointId, memberId: points[index]!.memberId, importW: netImportW(Array.from(site.importWh), Array.from(site.exportWh), horizon.stepMinutes) }];
    });
    return { horizonStartMs: horizon.startMs, stepMinutes: horizon.stepMinutes, status: out.result.status, planCost: plan.totals.costNano, watchedImportW, watchedPoints, problems: [] };
  }

  /**
   * The community's scenario as of `nowMs` (undefined without metering points); `onlyDevices` narrows
   * what the plan may control, `powerLimitsW` the power of some devices.
   */
  private async assemble(communityId: string, nowMs: number, steps: number, onlyDevices?: ReadonlySet<string>, powerLimitsW?: ReadonlyMap<string, number>) {
    const { db } = this;
    const community = await loadCommunity(db, communityId);
    if (!community) return undefined;
    const points = await meteringPointsOfCommunity(db, communityId);
    if (points.length === 0) return undefined;
    const startMs = horizonStart(nowMs);
    const clock = createLocalClock(community.timeZone);
    const [devices, controls, requests, tariffs, weights, forecasts, last, warm] = await Promise.all([
      communityDevices(db, communityId), controlOfCommunity(db, communityId), applianceRequests(db, { communityId }), loadTariffs(db, communityId),
      objectiveOf(db, communityId), pointForecastsP50(db, points.map((p) => p.id), startMs, steps, nowMs), latestPlan(db, communityId, true),
      warmStartOf(db, communityId),
    ]);
    const reported = await measuredStates(db, devices, nowMs);
    const controlOf = new Map(controls.map((c) => [c.deviceId, c]));
    const date = localDateOf(startMs, clock);
    const sorted = [...tariffs].sort((a, b) => a.validFrom.localeCompare(b.validFrom));
    const tariff = sorted.filter((t) => t.validFrom <= date).pop() ?? sorted[0];
    const previousBindings = last?.bindings ?? [];
    const assembly = assembleScenario({
      name: community.name, timeZone: community.timeZone, clock, currency: community.currency, nowMs, steps, weights: weights ?? DEFAULT_WEIGHTS,
      tariff,
      points: points.map((p) => ({
        id: p.id, memberId: p.memberId, name: p.name, communityBattery: p.communityBattery, batteryCapacityWh: p.batteryCapacityWh,
        importLimitW: p.effectiveConnectionCapacityW, exportLimitW: p.exportLimitW ?? p.effectiveConnectionCapacityW,
      })),
      communityLimits: { importLimitW: community.connectionImportLimitW, exportLimitW: community.connectionExportLimitW },
      devices: devices.filter((d) => d.status === 'active').map((d) => {
        const control = controlOf.get(d.id);
        return {
          id: d.id, name: d.name, kind: d.kind, meteringPointId: d.meteringPointId, specs: d.specs,
          controllable: (control?.controllable ?? false) && (onlyDevices === undefined || onlyDevices.has(d.id)),
          limits: narrowPower(control?.limits ?? {}, powerLimitsW?.get(d.id)), overrideUntilMs: control?.overrideUntilMs ?? null,
        };
      }),
      requests, forecasts, state: last?.document ? stateAt(last.document, previousBindings, startMs) : new Map(),
      measuredSoc: reported.soc, measuredTemperature: reported.temperature,
      solver: { timeLimitS: this.settings.timeLimitS },
    });
    return { community, points, assembly, startMs, last, warm, weights };
  }

  private async planNow(communityId: string, trigger: PlanTrigger): Promise<StoredPlan | undefined> {
    const { db } = this;
    const nowMs = this.settings.now();
    const steps = this.settings.steps;
    const prepared = await this.assemble(communityId, nowMs, steps);
    if (!prepared) return undefined;
    const { community, assembly, startMs, last, warm, weights, points } = prepared;
    const bounds = await this.targetSource?.(communityId, { startMs, steps, stepMinutes: 15 });
    const boundSites = bounds ? sitesOf(points, bounds.meteringPointIds) : [];
    const exchangeTargets = bounds && boundSites.length > 0 && bounds.targets.length > 0
      ? { siteIds: boundSites, steps: bounds.targets, shortfallPerKwh: EXPLORE_SHORTFALL_PER_KWH }
      : undefined;
    const common = {
      id: randomUUID(), communityId, decidedAtMs: nowMs, trigger, horizonStartMs: startMs, horizonEndMs: startMs + steps * QUARTER_HOUR_MS, stepMinutes: 15,
      weights: weights ?? DEFAULT_WEIGHTS, currency: community.currency, scenario: assembly.scenario, bindings: assembly.bindings,
    };
    const noPlan = (status: 'infeasible' | 'failed', message: string, problems: readonly string[]): StoredPlan => ({
      ...common, status, message, objective: null, bound: null, relativeGap: null, absoluteGap: null, timeS: 0,
      size: { columns: 0, rows: 0, nonzeros: 0, integers: 0 }, warmStart: false, document: null, assets: [], communityImportW: [], baselineImportW: [],
      problems, commands: [], saving: null, planCost: null, baselineCost: null,
    });
    let stored: StoredPlan;
    let solution: NamedSolution | undefined;
    try {
      const scenario = parseScenario(assembly.scenario);
      // The last solution still covers part of this horizon (after a long pause it says nothing about it).
      const previous = warm && warm.solution.startMs <= startMs && startMs < warm.horizonEndMs ? warm.solution : undefined;
      const sharing = await savingsSharing(db, communityId, community.allocationRule, startMs, common.horizonEndMs);
      const out = await optimise(scenario, { solver: this.solver, sharing, ...(previous ? { previous } : {}), ...(exchangeTargets ? { exchangeTargets } : {}) });
      const { solution: _solution, conflict: _conflict, ...report } = out.result;
      if (!out.document) {
        stored = { ...noPlan('failed', report.message, out.problems ?? []), ...report, document: null, problems: out.problems ?? [] };
      } else {
        solution = out.solution;
        const base = baseline(scenario);
        const document = out.document;
        stored = {
          ...common, ...report, document, assets: plannedAssets(document, base, assembly.bindings),
          communityImportW: netImportW(document.sites.at(-1)!.importWh, document.sites.at(-1)!.exportWh, document.stepMinutes),
          baselineImportW: netImportW(Array.from(base.sites.at(-1)!.importWh), Array.from(base.sites.at(-1)!.exportWh), document.stepMinutes),
          problems: [], commands: planCommands(document, assembly.bindings),
          saving: document.savings.cost.amount, planCost: document.totals.cost.amount, baselineCost: document.baseline.cost.amount,
        };
      }
    } catch (error) {
      if (error instanceof InfeasibleScenarioError) {
        stored = noPlan('infeasible', 'the scenario cannot be met', error.problems.map((p) => `${describeSite(p.site, assembly.bindings)}/${p.asset}${p.at ? ` at ${p.at}` : ''}: ${p.reason}`));
      } else if (error instanceof ScenarioError) {
        stored = noPlan('failed', 'the community could not be described as a scenario', [error.message]);
      } else {
        throw error;
      }
    }
    const started = startedRequests(stored, assembly.bindings);
    await this.events.transaction(db, async (tx, publish) => {
      await insertPlan(tx, stored);
      if (solution) await saveWarmStart(tx, communityId, { planId: stored.id, horizonEndMs: stored.horizonEndMs, solution });
      await markStarted(tx, started, startMs);
      await pruneRequests(tx, communityId, nowMs);
      if (stored.document) {
        await publish('plan.decided', { communityId, planId: stored.id, decidedAtMs: nowMs, commands: [...stored.commands] });
      }
    });
    this.settings.onPlanned?.({ status: stored.status, timeS: stored.timeS });
    return stored;
  }

  /** Records a device's override (from `device.override`, in the publisher's transaction); false if the device is not this community's. */
  async recordOverride(tx: Queryable, communityId: string, deviceId: string, untilMs: number | null, source: 'device' | 'app'): Promise<boolean> {
    const device = await deviceById(tx, deviceId);
    if (!device || device.communityId !== communityId) return false;
    const control = await controlOfDevice(tx, deviceId);
    await upsertControl(tx, communityId, {
      deviceId, controllable: control?.controllable ?? false, limits: control?.limits ?? {}, overrideUntilMs: untilMs, overrideSource: untilMs === null ? null : source,
    });
    return true;
  }
}

/**
 * Each device's latest report of its state: batteries' and EVs' state of charge, tanks' temperature.
 * Never a report stamped after now (a device's clock ahead), never one too old to say where the device is.
 */
async function measuredStates(db: Queryable, devices: readonly { id: string; kind: string }[], nowMs: number) {
  const reports = async (kind: keyof typeof STATE_QUANTITY) =>
    latestReadingsIn(db, devices.filter((d) => d.kind === kind).map((d) => d.id), STATE_QUANTITY[kind], nowMs - SOC_READING_MAX_AGE_MS, nowMs);
  const [batteries, evs, tanks] = await Promise.all([reports('battery'), reports('ev-charger'), reports('heat-pump')]);
  return {
    soc: new Map<string, MeasuredSoc>([...batteries, ...evs].map((r) => [r.deviceId, { soc: r.value / 100, atMs: r.ts.getTime() }])),
    temperature: new Map<string, MeasuredTemperature>(tanks.map((r) => [r.deviceId, { temperatureC: r.value, atMs: r.ts.getTime() }])),
  };
}

/** The community's sharing rule with the keys in force over the horizon: how a plan's saving lands on members. */
async function savingsSharing(db: Queryable, communityId: string, rule: string, startMs: number, endMs: number): Promise<SavingsSharing> {
  const [shareVersions, coefficientPeriods] = await Promise.all([loadShareVersions(db, communityId), loadCoefficientPeriods(db, communityId, startMs, endMs)]);
  return shareByCommunityRule(rule, { shareVersions, coefficientPeriods });
}

/** The scenario's site ids ("site-<n>", by position) of these metering points. */
function sitesOf(points: readonly { readonly id: string }[], meteringPointIds: readonly string[]): string[] {
  const siteOf = new Map(points.map((p, index) => [p.id, `site-${index + 1}`]));
  return meteringPointIds.flatMap((id) => siteOf.get(id) ?? []);
}

/** A member's limits with the most power narrowed to `limitW` where that is smaller. */
function narrowPower(limits: Limits, limitW: number | undefined): Limits {
  if (limitW === undefined) return limits;
  return { ...limits, maxPowerW: Math.min(limits.maxPowerW ?? limitW, limitW) };
}

const netImportW = (importWh: readonly number[], exportWh: readonly number[], stepMinutes: number) =>
  importWh.map((wh, t) => ((wh - exportWh[t]!) * 60) / stepMinutes);

/** Site ids are positions ("site-3"); problems name the metering point's site as its binding names it. */
function describeSite(site: string | null, bindings: readonly Binding[]): string {
  if (site === null) return 'community';
  return bindings.find((b) => b.key.startsWith(`${site}/`))?.name ?? site;
}

/** Appliance requests whose start this plan sends now. */
function startedRequests(plan: StoredPlan, bindings: readonly Binding[]): string[] {
  const starting = new Set(plan.commands.filter((c) => c.kind === 'appliance-start').map((c) => c.deviceId));
  if (!plan.document) return [];
  return boundAssets(plan.document, bindings).flatMap(({ binding, asset }) =>
    binding.requestId && binding.deviceId && starting.has(binding.deviceId) && asset.starts?.includes(plan.document!.start) ? [binding.requestId] : []);
}

const measuredAt = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
const initialSocView = ({ soc, source, measuredAtMs }: InitialSoc): NonNullable<PlannedAsset['initialSoc']> => ({ soc, source, measuredAt: measuredAt(measuredAtMs) });
const initialTemperatureView = ({ temperatureC, source, measuredAtMs }: InitialTemperature): NonNullable<PlannedAsset['initialTemperature']> => ({
  temperatureC, source, measuredAt: measuredAt(measuredAtMs),
});

/** Each bound asset of the plan with its schedule next to the same asset without a plan. */
export function plannedAssets(document: PlanDocument, base: Outcome, bindings: readonly Binding[]): PlannedAsset[] {
  const perHour = 60 / document.stepMinutes;
  const baselineOf = new Map<string, Int32Array>(base.sites.flatMap((site) => site.assets.map((a): [string, Int32Array] => [`${site.siteId ?? 'community'}/${a.id}`, a.steps.energyWh])));
  return boundAssets(document, bindings).map(({ binding, asset }) => ({
    deviceId: binding.deviceId,
    name: binding.name,
    type: asset.type as PlannedAsset['type'],
    meteringPointId: binding.meteringPointId,
    memberId: binding.memberId,
    powerW: [...asset.powerW],
    baselinePowerW: Array.from(baselineOf.get(binding.key) ?? [], (wh) => wh * perHour),
    ...(asset.socWh ? { socWh: [...asset.socWh] } : {}),
    ...(binding.initialSoc ? { initialSoc: initialSocView(binding.initialSoc) } : {}),
    ...(binding.technical ? { technical: { ...binding.technical } } : {}),
    ...(binding.initialTemperature ? { initialTemperature: initialTemperatureView(binding.initialTemperature) } : {}),
    ...(asset.temperatureC ? { temperatureC: [...asset.temperatureC] } : {}),
    ...(asset.starts ? { starts: [...asset.starts] } : {}),
    ...(asset.curtailedWh ? { curtailedWh: asset.curtailedWh.reduce((s, v) => s + v, 0) } : {}),
  }));
}
