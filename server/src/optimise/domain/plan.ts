import { formatMinor, formatNano, minorDigits, roundToMinor, type Nano } from '../../kernel/money.js';
import type { Asset, AssetSteps, Connection, ConnectionTotals, LimitExcess } from './assets/index.js';
import { stepInstant } from './horizon.js';
import type { Scenario } from './scenario.js';
import type { SolveReport } from './solve-report.js';

/**
 * Solution → plan, and the same evaluation of "no optimisation". Both are valued by one
 * function (`evaluate`): each asset's energy per step in whole Wh, each connection's import and
 * export from its bus's net, money exact (Wh × micro-price = nano-units) and rounded once per
 * figure shown. So the saving compares like with like, and totals are sums of their parts.
 */

export interface AssetOutcome {
  readonly id: string;
  readonly type: string;
  readonly steps: AssetSteps;
}

export interface SiteOutcome extends ConnectionTotals {
  /** null for the community's own bus (its connection and shared assets). */
  readonly siteId: string | null;
  readonly member: string | undefined;
  readonly assets: readonly AssetOutcome[];
  /** Energy cost at this bus's connection plus its assets' start costs, exact. */
  readonly costNano: Nano;
  /** A solved plan's: where it had to exceed the connection's limits (fixed load or PV beyond them). */
  readonly limitExcess?: readonly LimitExcess[];
}

export interface Totals {
  readonly costNano: Nano;
  /** Of the community's exchange with the public grid. */
  readonly importWh: number;
  readonly exportWh: number;
  readonly peakImportW: number;
  readonly co2Grams: number;
  readonly consumptionWh: number;
  readonly productionWh: number;
  readonly curtailedWh: number;
  /** 1 − import / consumption. */
  readonly selfSufficiency: number | null;
  /** The weighted objective, as the model values it (money-equivalent). */
  readonly objective: number;
}

export interface Outcome {
  /** Sites in scenario order, the community bus last. */
  readonly sites: readonly SiteOutcome[];
  readonly totals: Totals;
}

const sum = (values: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s;
};

const nanoOf = (amount: number): Nano => BigInt(Math.round(amount * 1e9));

/** Values what the assets do; the one evaluation for plans and baselines. */
export function evaluate(scenario: Scenario, assetSteps: readonly (readonly AssetSteps[])[]): Outcome {
  const T = scenario.horizon.steps;
  const buses: { siteId: string | null; member: string | undefined; connection: Connection; assets: readonly Asset[] }[] = [
    ...scenario.sites.map((s) => ({ siteId: s.id, member: s.member, connection: s.connection, assets: s.assets })),
    { siteId: null, member: undefined, connection: scenario.community.connection, assets: scenario.community.assets },
  ];
  const communityNet = new Int32Array(T);
  let consumptionWh = 0;
  let productionWh = 0;
  let curtailedWh = 0;
  const sites = buses.map((bus, b): SiteOutcome => {
    const steps = assetSteps[b]!;
    const net = bus.siteId === null ? Int32Array.from(communityNet) : new Int32Array(T);
    let extra = 0;
    steps.forEach((s) => {
      for (let t = 0; t < T; t++) net[t]! -= s.energyWh[t]!;
      extra += s.extraCost ?? 0;
      if (s.producedWh) productionWh += sum(s.producedWh);
      if (s.curtailedWh) curtailedWh += sum(s.curtailedWh);
      if (!s.producedWh) consumptionWh += sum(s.energyWh);
    });
    const totals = bus.connection.evaluate(net);
    if (bus.siteId !== null) for (let t = 0; t < T; t++) communityNet[t]! += totals.exportWh[t]! - totals.importWh[t]!;
    return {
      siteId: bus.siteId,
      member: bus.member,
      assets: bus.assets.map((a, k) => ({ id: a.id, type: a.type, steps: steps[k]! })),
      ...totals,
      costNano: totals.costNano + nanoOf(extra),
    };
  });
  const community = sites[sites.length - 1]!;
  const costNano = sites.reduce((s, site) => s + site.costNano, 0n);
  const co2Grams = sites.reduce((s, site) => s + site.co2Grams, 0);
  const importWh = sum(community.importWh);
  const exportWh = sum(community.exportWh);
  const w = scenario.weights;
  return {
    sites,
    totals: {
      costNano,
      importWh,
      exportWh,
      peakImportW: community.peakImportW,
      co2Grams,
      consumptionWh,
      productionWh,
      curtailedWh,
      selfSufficiency: consumptionWh > 0 ? 1 - importWh / consumptionWh : null,
      objective: (w.cost * Number(costNano)) / 1e9 + (w.co2PerKg * co2Grams) / 1000 + (w.importPerKwh * importWh) / 1000
        + (w.exportPerKwh * exportWh) / 1000 + (w.peakPerKw * community.peakImportW) / 1000,
    },
  };
}

/**
 * What the assets do without optimisation: appliances start at the start of their window,
 * EVs charge at full power on arrival, heat pumps follow a thermostat, PV is never curtailed,
 * and then batteries run in self-consumption mode on what the others leave over.
 */
export function baseline(scenario: Scenario): Outcome {
  const T = scenario.horizon.steps;
  const runBus = (assets: readonly Asset[], surplusFromOutside?: Int32Array): AssetSteps[] => {
    const steps = new Array<AssetSteps>(assets.length);
    const surplus = new Float64Array(T);
    if (surplusFromOutside) surplus.set(surplusFromOutside);
    const apply = (k: number, s: AssetSteps) => {
      steps[k] = s;
      for (let t = 0; t < T; t++) surplus[t]! -= s.energyWh[t]!;
    };
    assets.forEach((a, k) => { if (!a.reactive) apply(k, a.baseline(surplus)); });
    assets.forEach((a, k) => { if (a.reactive) apply(k, a.baseline(surplus)); });
    return steps;
  };
  const perSite = scenario.sites.map((site) => runBus(site.assets));
  // A community battery sees what the sites exchange with the community bus.
  const first = evaluate(scenario, [...perSite, scenario.community.assets.map(() => ({ energyWh: new Int32Array(T) }))]);
  const communityNet = new Int32Array(T);
  for (const site of first.sites.slice(0, -1)) for (let t = 0; t < T; t++) communityNet[t]! += site.exportWh[t]! - site.importWh[t]!;
  return evaluate(scenario, [...perSite, runBus(scenario.community.assets, communityNet)]);
}

// ---- the plan document -------------------------------------------------------------------

export interface MoneyFigure {
  /** Rounded once to the currency's minor unit. */
  readonly amount: string;
  /** Exact, in currency units (9 decimals at most). */
  readonly exact: string;
}

export interface AssetPlan {
  readonly id: string;
  readonly type: string;
  /** Average power per step (W): positive = the asset draws from its site, negative = it supplies. */
  readonly powerW: readonly number[];
  readonly energyWh: readonly number[];
  readonly socWh?: readonly (number | null)[];
  readonly temperatureC?: readonly number[];
  readonly producedWh?: readonly number[];
  readonly curtailedWh?: readonly number[];
  readonly starts?: readonly string[];
}

export interface SitePlan {
  readonly id: string | null;
  readonly member?: string;
  readonly cost: MoneyFigure;
  readonly baselineCost: MoneyFigure;
  readonly importWh: readonly number[];
  readonly exportWh: readonly number[];
  readonly assets: readonly AssetPlan[];
  /** Steps at which not optimising would break the connection's limits. */
  readonly baselineLimitViolations?: readonly string[];
  /** Steps at which the plan could not keep the connection's limits either, and by how much (W). */
  readonly limitExcess?: readonly { readonly at: string; readonly importW: number; readonly exportW: number }[];
}

export interface TotalsDocument extends Omit<Totals, 'costNano'> {
  readonly cost: MoneyFigure;
}

export interface PlanDocument {
  readonly scenario: string;
  readonly start: string;
  readonly steps: number;
  readonly stepMinutes: number;
  readonly currency: string;
  readonly solve: SolveReport;
  readonly totals: TotalsDocument;
  readonly baseline: TotalsDocument;
  readonly savings: { readonly cost: MoneyFigure; readonly co2Grams: number; readonly importWh: number };
  readonly sites: readonly SitePlan[];
}

export function money(nano: Nano, currency: string): MoneyFigure {
  const digits = minorDigits(currency);
  return { amount: formatMinor(roundToMinor(nano, digits), digits), exact: formatNano(nano) };
}

function totalsDocument(totals: Totals, currency: string): TotalsDocument {
  const { costNano, ...rest } = totals;
  return { cost: money(costNano, currency), ...rest, co2Grams: Math.round(rest.co2Grams), objective: Number(rest.objective.toFixed(6)) };
}

export function planDocument(scenario: Scenario, solve: SolveReport, plan: Outcome, base: Outcome): PlanDocument {
  const { horizon, currency } = scenario;
  const perHour = 60 / horizon.stepMinutes;
  const assetPlan = (a: AssetOutcome): AssetPlan => ({
    id: a.id,
    type: a.type,
    powerW: Array.from(a.steps.energyWh, (wh) => wh * perHour),
    energyWh: Array.from(a.steps.energyWh),
    ...(a.steps.socWh ? { socWh: a.steps.socWh } : {}),
    ...(a.steps.temperatureC ? { temperatureC: Array.from(a.steps.temperatureC, (c) => Math.round(c * 100) / 100) } : {}),
    ...(a.steps.producedWh ? { producedWh: Array.from(a.steps.producedWh) } : {}),
    ...(a.steps.curtailedWh ? { curtailedWh: Array.from(a.steps.curtailedWh) } : {}),
    ...(a.steps.starts ? { starts: a.steps.starts.map((t) => stepInstant(horizon, t)) } : {}),
  });
  return {
    scenario: scenario.name,
    start: stepInstant(horizon, 0),
    steps: horizon.steps,
    stepMinutes: horizon.stepMinutes,
    currency,
    solve,
    totals: totalsDocument(plan.totals, currency),
    baseline: totalsDocument(base.totals, currency),
    savings: {
      cost: money(base.totals.costNano - plan.totals.costNano, currency),
      co2Grams: Math.round(base.totals.co2Grams - plan.totals.co2Grams),
      importWh: base.totals.importWh - plan.totals.importWh,
    },
    sites: plan.sites.map((site, i) => ({
      id: site.siteId,
      ...(site.member === undefined ? {} : { member: site.member }),
      cost: money(site.costNano, currency),
      baselineCost: money(base.sites[i]!.costNano, currency),
      importWh: Array.from(site.importWh),
      exportWh: Array.from(site.exportWh),
      assets: site.assets.map(assetPlan),
      ...(base.sites[i]!.limitViolations.length > 0 ? { baselineLimitViolations: base.sites[i]!.limitViolations.map((t) => stepInstant(horizon, t)) } : {}),
      ...(site.limitExcess && site.limitExcess.length > 0
        ? { limitExcess: site.limitExcess.map(({ step, importW, exportW }) => ({ at: stepInstant(horizon, step), importW, exportW })) }
        : {}),
    })),
  };
}
