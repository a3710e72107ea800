import { BadRequestError } from '../../kernel/errors.js';
import type { Asset, Bus, BusView, BuildContext, BuiltAsset, BuiltConnection, Connection, Infeasibility } from './assets/index.js';
import { stepInstant } from './horizon.js';
import { ModelBuilder, type MilpModel, type Terms } from './model.js';
import { evaluate, type Outcome } from './plan.js';
import { lpKey, type Scenario } from './scenario.js';
import type { WarmStart } from './solve-report.js';

/**
 * Scenario → model. Every site is a bus: its assets inject power, its connection imports and
 * exports, and a balance row per step makes the sum zero. A site's connection feeds the
 * community bus, where community assets sit and the community's connection to the public
 * grid closes the balance. Assets are built before the connection of their bus, so the
 * connection knows the bus's real limits (its big-M values) and its production.
 */
export interface BuiltSite {
  /** null for the community's own bus. */
  readonly siteId: string | null;
  readonly connection: BuiltConnection;
  readonly assets: readonly { readonly asset: Asset; readonly built: BuiltAsset }[];
}

export interface BuiltModel {
  readonly scenario: Scenario;
  readonly model: MilpModel;
  readonly sites: readonly BuiltSite[];
  /** Grid binaries left in the model (0 when export never pays more than import). */
  readonly gridBinaries: number;
}

/** A scenario that cannot be planned, with every reason found and where. */
export class InfeasibleScenarioError extends BadRequestError {
  constructor(readonly problems: readonly (Infeasibility & { readonly site: string | null; readonly at?: string })[]) {
    super(`infeasible scenario: ${problems.map((p) => `${p.site ?? 'community'}/${p.asset}${p.at ? ` at ${p.at}` : ''}: ${p.reason}`).join('; ')}`);
  }
}

/** The pre-checks of every asset: empty when nothing is known to be impossible. */
export function checkScenario(scenario: Scenario): InfeasibleScenarioError['problems'] {
  const problems: (Infeasibility & { site: string | null; at?: string })[] = [];
  const collect = (site: string | null, assets: readonly Asset[]) => {
    for (const asset of assets) {
      for (const p of asset.check()) problems.push({ ...p, site, ...(p.step === undefined ? {} : { at: stepInstant(scenario.horizon, p.step) }) });
    }
  };
  collect(null, scenario.community.assets);
  for (const site of scenario.sites) collect(site.id, site.assets);
  return problems;
}

class SiteBus implements Bus {
  readonly terms: [number, number][][];
  readonly constants: Float64Array;
  readonly view: BusView & { maxInjectKw: Float64Array; maxWithdrawKw: Float64Array; productionTerms: [number, number][][]; productionConstantKw: Float64Array };

  constructor(readonly name: string, steps: number) {
    this.terms = Array.from({ length: steps }, () => []);
    this.constants = new Float64Array(steps);
    this.view = {
      name,
      maxInjectKw: new Float64Array(steps),
      maxWithdrawKw: new Float64Array(steps),
      productionTerms: Array.from({ length: steps }, () => []),
      productionConstantKw: new Float64Array(steps),
    };
  }

  inject(t: number, terms: Terms): void {
    for (const [v, c] of terms) this.terms[t]!.push([v, c]);
  }

  injectConstant(t: number, kw: number): void {
    this.constants[t]! += kw;
  }

  produce(t: number, terms: Terms, constantKw = 0): void {
    for (const [v, c] of terms) this.view.productionTerms[t]!.push([v, c]);
    this.view.productionConstantKw[t]! += constantKw;
  }

  declareRange(t: number, maxInjectKw: number, maxWithdrawKw: number): void {
    this.view.maxInjectKw[t]! += maxInjectKw;
    this.view.maxWithdrawKw[t]! += maxWithdrawKw;
  }
}

/**
 * Soft bounds on the summed net import (import − export, W) of some sites at some steps: what a
 * grid operator's flexibility request asks of the connections behind one congestion point. Each
 * W outside a step's [minW, maxW] costs `shortfallPerKwh` (money-equivalent per kWh) in the
 * objective, so the plan meets the bounds wherever the assets can and comes as close as they
 * allow elsewhere (never infeasible); the plan's own cost (its evaluation) does not include it.
 */
export interface ExchangeTargets {
  readonly siteIds: readonly string[];
  readonly steps: readonly { readonly step: number; readonly minW: number; readonly maxW: number }[];
  readonly shortfallPerKwh: number;
}

export interface BuildOptions {
  readonly exchangeTargets?: ExchangeTargets;
}

/** Builds the model; throws InfeasibleScenarioError when a pre-check already knows there is no plan. */
export function buildModel(scenario: Scenario, options: BuildOptions = {}): BuiltModel {
  const problems = checkScenario(scenario);
  if (problems.length > 0) throw new InfeasibleScenarioError(problems);
  const { horizon, weights } = scenario;
  const T = horizon.steps;
  const model = new ModelBuilder(lpKey(scenario.name.replace(/[^A-Za-z0-9_-]/g, '_')).replace(/^[^A-Za-z]/, 'm'));
  const community = new SiteBus('community', T);
  const negative = (connection: Connection, t: number) => connection.importPrice[t]! < 0n || connection.exportPrice[t]! < 0n;
  let gridBinaries = 0;

  const context = (bus: SiteBus, prefix: string, negativePriceAt: (t: number) => boolean, upstream?: Bus): BuildContext => ({
    model,
    horizon,
    weights,
    bus,
    busView: bus.view,
    ...(upstream ? { upstream } : {}),
    name: (part, t) => `${prefix}.${part}${t === undefined ? '' : `.t${t}`}`,
    addMoney: (id, amount) => model.addCost(id, weights.cost * amount),
    negativePriceAt,
  });

  const buildBus = (siteId: string | null, bus: SiteBus, connection: Connection, assets: readonly Asset[], upstream?: Bus): BuiltSite => {
    const prefix = siteId === null ? 'community' : lpKey(siteId);
    const negativePriceAt = (t: number) => negative(connection, t) || negative(scenario.community.connection, t);
    const built = assets.map((asset) => ({ asset, built: asset.build(context(bus, `${prefix}.${lpKey(asset.id)}`, negativePriceAt, upstream)) }));
    const grid = connection.build(context(bus, `${prefix}.grid`, negativePriceAt, upstream));
    gridBinaries += grid.binaries;
    for (let t = 0; t < T; t++) model.constraint(`${prefix}.balance.t${t}`, bus.terms[t]!, '=', -bus.constants[t]!);
    return { siteId, connection: grid, assets: built };
  };

  const sites = scenario.sites.map((site) => buildBus(site.id, new SiteBus(site.id, T), site.connection, site.assets, community));
  sites.push(buildBus(null, community, scenario.community.connection, scenario.community.assets));
  if (options.exchangeTargets) addExchangeTargets(model, sites, options.exchangeTargets, T, horizon.stepHours);
  return { scenario, model: model.build(), sites, gridBinaries };
}

function addExchangeTargets(model: ModelBuilder, sites: readonly BuiltSite[], targets: ExchangeTargets, steps: number, stepHours: number): void {
  const targeted = targets.siteIds.map((id) => {
    const site = sites.find((s) => s.siteId === id);
    if (!site) throw new BadRequestError(`exchange targets: no site ${id}`, 'exchangeTargets.siteIds');
    return site;
  });
  for (const { step, minW, maxW } of targets.steps) {
    if (!Number.isInteger(step) || step < 0 || step >= steps) throw new BadRequestError(`exchange targets: step ${step} is outside the horizon`, 'exchangeTargets.steps');
    if (!(minW <= maxW)) throw new BadRequestError(`exchange targets: step ${step} has minW above maxW`, 'exchangeTargets.steps');
    const net: Terms = targeted.flatMap((site) => site.connection.netImportTerms(step));
    const penalty = targets.shortfallPerKwh * stepHours;
    const below = model.variable(`target.below.t${step}`, { cost: penalty });
    const above = model.variable(`target.above.t${step}`, { cost: penalty });
    model.constraint(`target.min.t${step}`, [...net, [below, 1]], '>=', minW / 1000);
    model.constraint(`target.max.t${step}`, [...net, [above, -1]], '<=', maxW / 1000);
  }
}

/**
 * A MIP start from an outcome of the same scenario (the baseline, usually): every asset sets
 * its binaries to do what it does there, and HiGHS completes the continuous part. A start
 * that turns out infeasible (a thermostat that misses the terminal temperature) is dropped
 * by HiGHS without harm.
 */
export function startFrom(built: BuiltModel, outcome: Outcome): WarmStart {
  const indices: number[] = [];
  const values: number[] = [];
  built.sites.forEach((site, i) => {
    const seen = outcome.sites[i]!;
    const add = (pairs: readonly (readonly [number, number])[] | undefined) => {
      for (const [v, value] of pairs ?? []) {
        indices.push(v);
        values.push(value);
      }
    };
    site.assets.forEach(({ built: asset }, k) => add(asset.start?.(seen.assets[k]!.steps)));
    add(site.connection.start?.({ energyWh: seen.importWh.map((wh, t) => wh - seen.exportWh[t]!) }));
  });
  return { indices: Int32Array.from(indices), values: Float64Array.from(values) };
}

/**
 * The plan in the solution: every asset reads its own variables, and every connection says
 * where the plan had to exceed its limits; their penalty is part of the objective.
 */
export function readSolution(built: BuiltModel, x: Float64Array): Outcome {
  const outcome = evaluate(built.scenario, built.sites.map((site) => site.assets.map(({ built: asset }) => asset.read(x))));
  const penalty = built.sites.reduce((sum, site) => sum + site.connection.excessPenalty(x), 0);
  return {
    sites: outcome.sites.map((site, i) => ({ ...site, limitExcess: built.sites[i]!.connection.limitExcess(x) })),
    totals: { ...outcome.totals, objective: outcome.totals.objective + penalty },
  };
}
