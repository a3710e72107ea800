import { energyCost, type MicroPrice, type Nano } from '../../../kernel/money.js';
import { boolean, join, optionalNumber, price, record, series, type Fields } from '../fields.js';
import { perKwh, priceSeries, type Horizon } from '../horizon.js';
import type { Terms } from '../model.js';
import type { BuildContext, BuiltAsset, ObjectiveWeights } from './registry.js';

/**
 * A grid connection: a site's meter, or the community's connection to the public grid. It is
 * the adapter that closes a bus: import − export + Σ injections of the bus's assets = 0.
 *
 * Import and export are priced per step (time of use included). When at some step exporting
 * pays more than importing costs (once CO2 and autarky weights are added), importing and
 * exporting at once would earn money, so only at those steps a binary allows one direction at
 * a time; its big-M values are the real limits of the step (the connection's limit or, where
 * smaller, the most the bus's assets can take or give). Everywhere else the LP is exact.
 *
 * `exportOnlyProduction`: what leaves through the connection is at most what PV and wind
 * produce at that step (no battery-to-grid). `peak`: a capacity limit on import power and a
 * price per kW of the highest import of the horizon.
 *
 * Import and export limits are held as hard as the bus allows: where a limit is below what the
 * bus's assets can take or give at a step, a non-negative slack lets the flow exceed it, priced
 * at LIMIT_EXCESS_PER_KWH (far above any energy price), so a plan only crosses a limit where
 * fixed load or uncurtailable PV leaves no other way — a forecast beyond a limit never makes a
 * plan infeasible, and the plan reports where and by how much (`limitExcess`).
 */
export type ConnectionLevel = 'site' | 'community';

export interface ConnectionTotals {
  readonly importWh: Int32Array;
  readonly exportWh: Int32Array;
  readonly costNano: Nano;
  readonly peakImportW: number;
  readonly co2Grams: number;
  /** Steps at which the import or export limit is exceeded (the baseline may do that). */
  readonly limitViolations: readonly number[];
}

/** By how much a plan exceeds the connection's limits at a step (W, both ≥ 0, one > 0). */
export interface LimitExcess {
  readonly step: number;
  readonly importW: number;
  readonly exportW: number;
}

/**
 * Money-equivalent per kWh beyond an import or export limit: two to three orders above energy
 * prices, so no saving elsewhere pays for crossing a limit, yet small enough to keep the model
 * well scaled. Added to the objective whatever the weights (it is no money anybody pays).
 */
export const LIMIT_EXCESS_PER_KWH = 100;

export interface BuiltConnection extends BuiltAsset {
  readonly binaries: number;
  /** Its net import at step t (kW, import − export) as model terms. */
  netImportTerms(t: number): Terms;
  /** Where the solution exceeds the limits (slack used), in W per step. */
  limitExcess(x: Float64Array): LimitExcess[];
  /** The penalty of that excess in the objective (money-equivalent). */
  excessPenalty(x: Float64Array): number;
}

export interface Connection {
  readonly level: ConnectionLevel;
  readonly importPrice: readonly MicroPrice[];
  readonly exportPrice: readonly MicroPrice[];
  build(ctx: BuildContext): BuiltConnection;
  /** Import and export of a bus whose assets inject `netWh` per step (positive = surplus), and their price. */
  evaluate(netWh: Int32Array): ConnectionTotals;
  /** Objective coefficients (money-equivalent per kWh) of import and export at step t. */
  coefficients(t: number): { readonly importPerKwh: number; readonly exportPerKwh: number };
}

/** A limit left out is "no limit": a finite stand-in; the bus's own limits bound the LP anyway. */
const NO_LIMIT_W = 1e10;

export const CONNECTION_FIELDS = ['importPrice', 'exportPrice', 'importLimitW', 'exportLimitW', 'exportOnlyProduction', 'peak', 'co2GPerKWh'] as const;

export function parseConnection(raw: unknown, path: string, horizon: Horizon, level: ConnectionLevel, weights: ObjectiveWeights): Connection {
  const fields: Fields = raw === undefined ? {} : record(raw, path, CONNECTION_FIELDS);
  const T = horizon.steps;
  const dt = horizon.stepHours;
  const importPrice = priceSeries(fields.importPrice ?? 0, join(path, 'importPrice'), horizon);
  const exportPrice = priceSeries(fields.exportPrice ?? 0, join(path, 'exportPrice'), horizon);
  const importLimitKw = series(fields, 'importLimitW', path, horizon, { min: 0, max: 1e10, default: NO_LIMIT_W }).map((w) => w / 1000);
  const exportLimitKw = series(fields, 'exportLimitW', path, horizon, { min: 0, max: 1e10, default: NO_LIMIT_W }).map((w) => w / 1000);
  const exportOnlyProduction = boolean(fields, 'exportOnlyProduction', path, false);
  const co2 = series(fields, 'co2GPerKWh', path, horizon, { min: 0, max: 5000, default: 0 });
  let peakPrice: MicroPrice = 0n;
  if (fields.peak !== undefined) {
    const peakPath = join(path, 'peak');
    const peak = record(fields.peak, peakPath, ['pricePerKw', 'limitW']);
    peakPrice = peak.pricePerKw === undefined ? 0n : price(peak.pricePerKw, join(peakPath, 'pricePerKw'));
    const limitW = optionalNumber(peak, 'limitW', peakPath, { min: 0, max: 1e10 });
    if (limitW !== undefined) importLimitKw.forEach((kw, t) => { importLimitKw[t] = Math.min(kw, limitW / 1000); });
  }
  const peakWeight = weights.cost * perKwh(peakPrice) + (level === 'community' ? weights.peakPerKw : 0);
  const coefficients = (t: number) => ({
    importPerKwh: weights.cost * perKwh(importPrice[t]!) + (weights.co2PerKg * co2[t]!) / 1000 + (level === 'community' ? weights.importPerKwh : 0),
    exportPerKwh: -weights.cost * perKwh(exportPrice[t]!) + (level === 'community' ? weights.exportPerKwh : 0),
  });

  return {
    level,
    importPrice,
    exportPrice,
    coefficients,
    build(ctx) {
      const { model, busView } = ctx;
      const imports: number[] = [];
      const exports: number[] = [];
      const importing = new Map<number, number>();
      const slacks: { t: number; over: number; direction: 'import' | 'export' }[] = [];
      const peak = peakWeight > 0 ? model.variable(ctx.name('peak'), { upper: Math.max(...busView.maxWithdrawKw) }) : undefined;
      if (peak !== undefined) model.addCost(peak, peakWeight);
      /** The flow's variable, bounded by what the bus can do; a limit below that is a row with a priced slack. */
      const flow = (part: 'import' | 'export', t: number, capKw: number, limitKw: number, perKwh: number) => {
        const v = model.variable(ctx.name(part, t), { upper: capKw, cost: perKwh * dt });
        if (limitKw < capKw) {
          const over = model.variable(ctx.name(`${part}over`, t), { upper: capKw - limitKw, cost: LIMIT_EXCESS_PER_KWH * dt });
          model.constraint(ctx.name(`${part}limit`, t), [[v, 1], [over, -1]], '<=', limitKw);
          slacks.push({ t, over, direction: part });
        }
        return v;
      };
      for (let t = 0; t < T; t++) {
        const importMax = busView.maxWithdrawKw[t]!;
        const exportMax = busView.maxInjectKw[t]!;
        const { importPerKwh, exportPerKwh } = coefficients(t);
        const imp = flow('import', t, importMax, importLimitKw[t]!, importPerKwh);
        const exp = flow('export', t, exportMax, exportLimitKw[t]!, exportPerKwh);
        imports.push(imp);
        exports.push(exp);
        ctx.bus.inject(t, [[imp, 1], [exp, -1]]);
        if (importPerKwh + exportPerKwh < 0 && importMax > 0 && exportMax > 0) {
          const y = model.binary(ctx.name('importing', t));
          importing.set(t, y);
          model.constraint(ctx.name('ionly', t), [[imp, 1], [y, -importMax]], '<=', 0);
          model.constraint(ctx.name('eonly', t), [[exp, 1], [y, exportMax]], '<=', exportMax);
        }
        if (exportOnlyProduction) {
          const produced: Terms = busView.productionTerms[t] ?? [];
          model.constraint(ctx.name('exportprod', t), [[exp, 1], ...produced.map(([v, c]) => [v, -c] as const)], '<=', busView.productionConstantKw[t]!);
        }
        if (peak !== undefined) model.constraint(ctx.name('peak', t), [[imp, 1], [peak, -1]], '<=', 0);
        if (ctx.upstream) {
          ctx.upstream.inject(t, [[exp, 1], [imp, -1]]);
          ctx.upstream.declareRange(t, exportMax, importMax);
          ctx.upstream.produce(t, busView.productionTerms[t] ?? [], busView.productionConstantKw[t]!);
        }
      }
      return {
        binaries: importing.size,
        limitExcess(x) {
          const byStep = new Map<number, { importW: number; exportW: number }>();
          for (const { t, over, direction } of slacks) {
            const w = Math.round(x[over]! * 1000);
            if (w <= 0) continue;
            const at = byStep.get(t) ?? { importW: 0, exportW: 0 };
            byStep.set(t, direction === 'import' ? { ...at, importW: w } : { ...at, exportW: w });
          }
          return [...byStep].sort(([a], [b]) => a - b).map(([step, w]) => ({ step, ...w }));
        },
        excessPenalty: (x) => slacks.reduce((sum, { over }) => sum + x[over]! * LIMIT_EXCESS_PER_KWH * dt, 0),
        netImportTerms: (t) => [[imports[t]!, 1], [exports[t]!, -1]],
        start: (steps) => [...importing].map(([t, y]) => [y, steps.energyWh[t]! > 0 ? 1 : 0] as const),
        read: (x) => ({ energyWh: Int32Array.from(imports, (imp, t) => Math.round((x[imp]! - x[exports[t]!]!) * 1000 * dt)) }),
      };
    },
    evaluate(netWh) {
      const importWh = netWh.map((wh) => Math.max(0, -wh));
      const exportWh = netWh.map((wh) => Math.max(0, wh));
      let costNano = 0n;
      let co2Grams = 0;
      let peakImportW = 0;
      const limitViolations: number[] = [];
      const perHour = 60 / horizon.stepMinutes;
      for (let t = 0; t < T; t++) {
        costNano += energyCost(importWh[t]!, importPrice[t]!) - energyCost(exportWh[t]!, exportPrice[t]!);
        co2Grams += (importWh[t]! * co2[t]!) / 1000;
        peakImportW = Math.max(peakImportW, importWh[t]! * perHour);
        if (importWh[t]! * perHour > importLimitKw[t]! * 1000 + 0.5 || exportWh[t]! * perHour > exportLimitKw[t]! * 1000 + 0.5) limitViolations.push(t);
      }
      costNano += energyCost(peakImportW, peakPrice);
      return { importWh, exportWh, costNano, peakImportW, co2Grams, limitViolations };
    },
  };
}
