import type { Fields } from '../fields.js';
import type { Horizon } from '../horizon.js';
import type { ModelBuilder, Terms, VarId } from '../model.js';

/**
 * Assets by type name. Each adapter module registers itself when imported (`./index.ts` imports
 * them all), the way the meter decoders and allocation rules do. An adapter reads its part of
 * a scenario into an Asset, which then checks itself, adds its variables and constraints to a
 * model, reads its plan back from a solution, and says what it would do without optimisation.
 */

/** Why a scenario cannot be planned, found before the solver runs. */
export interface Infeasibility {
  /** `site/asset`. */
  readonly asset: string;
  /** Step index, where the problem is at one step. */
  readonly step?: number;
  readonly reason: string;
}

/**
 * The bus an asset connects to (a site's meter, or the community's connection point): the sum
 * of what its assets inject is zero at every step.
 */
export interface Bus {
  readonly name: string;
  /** Power into the bus (kW) at step t: positive = produces or discharges. */
  inject(t: number, terms: Terms): void;
  /** A fixed power into the bus (kW) at step t (negative for a fixed load). */
  injectConstant(t: number, kw: number): void;
  /** Terms that are instant production (PV, wind) at step t: what "export only production" allows out. */
  produce(t: number, terms: Terms, constantKw?: number): void;
  /** Declares the most the asset can inject / withdraw at step t (kW ≥ 0): the bus's real limits for big-M. */
  declareRange(t: number, maxInjectKw: number, maxWithdrawKw: number): void;
}

export interface BusView {
  readonly name: string;
  readonly maxInjectKw: Float64Array;
  readonly maxWithdrawKw: Float64Array;
  readonly productionTerms: readonly Terms[];
  readonly productionConstantKw: Float64Array;
}

/** Objective weights (see scenario.ts); every term of the objective is in money or money-equivalent. */
export interface ObjectiveWeights {
  /** Weight of money (1 = plain cost). */
  readonly cost: number;
  /** Money per kg CO2 imported. */
  readonly co2PerKg: number;
  /** Money-equivalent per kWh imported from the public grid (favours autarky). */
  readonly importPerKwh: number;
  /** Money-equivalent per kWh exported to the public grid (favours self-consumption). */
  readonly exportPerKwh: number;
  /** Money-equivalent per kW of the community's highest import power in the horizon. */
  readonly peakPerKw: number;
}

export interface BuildContext {
  readonly model: ModelBuilder;
  readonly horizon: Horizon;
  readonly weights: ObjectiveWeights;
  readonly bus: Bus;
  /** The bus's totals, complete once every other asset on it is built (the connection reads them). */
  readonly busView: BusView;
  /** The bus above this one (a site's connection feeds the community's); none for the community. */
  readonly upstream?: Bus;
  /** An LP name for this asset's variable or row: `<site>.<asset>.<part>[.t<step>]`. */
  name(part: string, t?: number): string;
  /** Adds money (currency units per unit of the variable) to the objective, weighted. */
  addMoney(id: VarId, amount: number): void;
  /**
   * Whether energy may be worth less than nothing at step t (a negative import or export price
   * on the way to the public grid): only then can wasting energy pay, so only then do storages
   * need a binary to keep them from charging and discharging at once.
   */
  negativePriceAt(t: number): boolean;
}

/** What an asset does over the horizon, in whole Wh per step (exact totals). */
export interface AssetSteps {
  /** Energy the asset takes from its bus per step (Wh; negative = it supplies). */
  readonly energyWh: Int32Array;
  /** Production per step (Wh, producers only), and what was curtailed. */
  readonly producedWh?: Int32Array;
  readonly curtailedWh?: Int32Array;
  /** Stored energy at the end of each step (Wh): batteries, EVs (null while an EV is away). */
  readonly socWh?: readonly (number | null)[];
  /** Tank temperature at the end of each step (°C): heat pumps. */
  readonly temperatureC?: Float64Array;
  /** Steps at which a run or a heat pump cycle starts. */
  readonly starts?: readonly number[];
  /** Money the asset costs beyond its energy (start costs), in currency units. */
  readonly extraCost?: number;
}

export interface BuiltAsset {
  /** The asset's plan from a solution vector. */
  read(x: Float64Array): AssetSteps;
  /**
   * Values for its binaries that make the asset do what `steps` says: turns the baseline (or
   * any plan) into a MIP start, so the solver has a feasible plan from its first second.
   */
  start?(steps: AssetSteps): readonly (readonly [VarId, number])[];
}

export interface Asset {
  readonly type: string;
  readonly id: string;
  /** Checks that make an infeasible model explain itself: the asset, the step and why. */
  check(): Infeasibility[];
  build(ctx: BuildContext): BuiltAsset;
  /**
   * What the asset does without optimisation. `surplusWh` is what the assets built before it
   * leave over at each step (positive = surplus): batteries use it in self-consumption mode.
   */
  baseline(surplusWh: Float64Array): AssetSteps;
  /** Whether its baseline reacts to the others (run after them). */
  readonly reactive: boolean;
}

export interface AssetAdapter {
  readonly type: string;
  readonly summary: string;
  /** The fields it reads, besides `type` and `id`. */
  readonly fields: readonly string[];
  parse(fields: Fields, path: string, id: string, horizon: Horizon): Asset;
}

const adapters = new Map<string, AssetAdapter>();

export function registerAsset(adapter: AssetAdapter): void {
  if (adapters.has(adapter.type)) throw new Error(`asset type ${adapter.type} is registered twice`);
  adapters.set(adapter.type, adapter);
}

export function getAssetAdapter(type: string): AssetAdapter | undefined {
  return adapters.get(type);
}

export function assetTypes(): string[] {
  return [...adapters.keys()];
}

/** Whole Wh of a power (kW) held for one step. */
export const stepWh = (kw: number, horizon: Horizon): number => Math.round(kw * 1000 * horizon.stepHours);
