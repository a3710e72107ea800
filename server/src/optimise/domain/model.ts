/**
 * A mixed-integer linear model as plain data, and the builder the assets write into.
 *
 *   minimise   Σ cost[j]·x[j] + offset
 *   subject to Σ a[i][j]·x[j]  (≤ | ≥ | =)  rhs[i]      for every row i
 *              lower[j] ≤ x[j] ≤ upper[j], x[j] integer where marked
 *
 * Rows are one-sided or equalities (never ranged), so the CPLEX LP export is the same model
 * row for row. Names follow the LP format's rules, so the export needs no renaming.
 */

export type VarId = number;
/** A linear expression: variable indices and their coefficients, in step. */
export type Terms = readonly (readonly [VarId, number])[];
export type RowSense = '<=' | '>=' | '=';

export interface MilpColumns {
  readonly names: readonly string[];
  readonly lower: Float64Array;
  readonly upper: Float64Array;
  readonly cost: Float64Array;
  /** 1 where the variable is integer (all integers here are binaries: bounds [0, 1]). */
  readonly integer: Uint8Array;
}

/** Rows in compressed sparse row form. */
export interface MilpRows {
  readonly names: readonly string[];
  readonly sense: readonly RowSense[];
  readonly rhs: Float64Array;
  readonly starts: Int32Array;
  readonly index: Int32Array;
  readonly value: Float64Array;
}

export interface MilpModel {
  readonly name: string;
  readonly columns: MilpColumns;
  readonly rows: MilpRows;
  readonly objectiveOffset: number;
}

export interface ModelSize {
  readonly columns: number;
  readonly rows: number;
  readonly nonzeros: number;
  readonly integers: number;
}

export function modelSize(model: MilpModel): ModelSize {
  let integers = 0;
  for (const flag of model.columns.integer) integers += flag;
  return { columns: model.columns.names.length, rows: model.rows.names.length, nonzeros: model.rows.index.length, integers };
}

/** LP-format names: a letter first, then letters, digits, `_` and `.`; at most 255 characters. */
const NAME = /^[A-Za-z][A-Za-z0-9_.]{0,254}$/;

export interface VariableOptions {
  readonly lower?: number;
  readonly upper?: number;
  readonly cost?: number;
}

export class ModelBuilder {
  private readonly colNames: string[] = [];
  private readonly colLower: number[] = [];
  private readonly colUpper: number[] = [];
  private readonly colCost: number[] = [];
  private readonly colInteger: number[] = [];
  private readonly rowNames: string[] = [];
  private readonly rowSense: RowSense[] = [];
  private readonly rowRhs: number[] = [];
  private readonly rowStarts: number[] = [0];
  private readonly rowIndex: number[] = [];
  private readonly rowValue: number[] = [];
  private readonly names = new Set<string>();
  private offset = 0;

  constructor(readonly name: string) {}

  get columnCount(): number {
    return this.colNames.length;
  }

  /** A continuous variable, by default in [0, ∞). */
  variable(name: string, options: VariableOptions = {}): VarId {
    const { lower = 0, upper = Number.POSITIVE_INFINITY, cost = 0 } = options;
    if (Number.isNaN(lower) || Number.isNaN(upper) || lower > upper) throw new Error(`variable ${name}: bounds [${lower}, ${upper}] are empty`);
    if (!Number.isFinite(cost)) throw new Error(`variable ${name}: cost ${cost} is not finite`);
    this.claim(name);
    this.colNames.push(name);
    this.colLower.push(lower);
    this.colUpper.push(upper);
    this.colCost.push(cost);
    this.colInteger.push(0);
    return this.colNames.length - 1;
  }

  /** A 0/1 variable. */
  binary(name: string, cost = 0): VarId {
    const id = this.variable(name, { lower: 0, upper: 1, cost });
    this.colInteger[id] = 1;
    return id;
  }

  /** Adds to a variable's objective coefficient. */
  addCost(id: VarId, cost: number): void {
    if (!Number.isFinite(cost)) throw new Error(`cost ${cost} of ${this.colNames[id]} is not finite`);
    this.colCost[id]! += cost;
  }

  addObjectiveConstant(value: number): void {
    this.offset += value;
  }

  /** Tightens a variable's upper bound (never loosens it). */
  capUpper(id: VarId, upper: number): void {
    if (upper < this.colUpper[id]!) this.colUpper[id] = Math.max(upper, this.colLower[id]!);
  }

  upperOf(id: VarId): number {
    return this.colUpper[id]!;
  }

  /** Σ terms (sense) rhs; repeated variables are merged and zero coefficients dropped. */
  constraint(name: string, terms: Terms, sense: RowSense, rhs: number): void {
    if (!Number.isFinite(rhs)) throw new Error(`constraint ${name}: right-hand side ${rhs} is not finite`);
    this.claim(name);
    const merged = new Map<VarId, number>();
    for (const [id, coefficient] of terms) {
      if (!Number.isFinite(coefficient)) throw new Error(`constraint ${name}: coefficient ${coefficient} is not finite`);
      if (id < 0 || id >= this.colNames.length) throw new Error(`constraint ${name}: unknown variable ${id}`);
      merged.set(id, (merged.get(id) ?? 0) + coefficient);
    }
    for (const [id, coefficient] of merged) {
      if (coefficient === 0) continue;
      this.rowIndex.push(id);
      this.rowValue.push(coefficient);
    }
    this.rowNames.push(name);
    this.rowSense.push(sense);
    this.rowRhs.push(rhs);
    this.rowStarts.push(this.rowIndex.length);
  }

  build(): MilpModel {
    return {
      name: this.name,
      objectiveOffset: this.offset,
      columns: {
        names: this.colNames,
        lower: Float64Array.from(this.colLower),
        upper: Float64Array.from(this.colUpper),
        cost: Float64Array.from(this.colCost),
        integer: Uint8Array.from(this.colInteger),
      },
      rows: {
        names: this.rowNames,
        sense: this.rowSense,
        rhs: Float64Array.from(this.rowRhs),
        starts: Int32Array.from(this.rowStarts),
        index: Int32Array.from(this.rowIndex),
        value: Float64Array.from(this.rowValue),
      },
    };
  }

  private claim(name: string): void {
    if (!NAME.test(name)) throw new Error(`model name "${name}" is not a valid LP name`);
    if (this.names.has(name)) throw new Error(`model name "${name}" is used twice`);
    this.names.add(name);
  }
}

/** Objective value of a column vector (offset included). */
export function objectiveValue(model: MilpModel, x: ArrayLike<number>): number {
  let value = model.objectiveOffset;
  const cost = model.columns.cost;
  for (let j = 0; j < cost.length; j++) if (cost[j] !== 0) value += cost[j]! * x[j]!;
  return value;
}

/**
 * The largest violation of any bound, row or integrality by a column vector, with where it is:
 * how the solver runner checks a rounded plan and how tests check a solution independently.
 */
export function worstViolation(model: MilpModel, x: ArrayLike<number>): { amount: number; where: string } {
  let amount = 0;
  let where = '';
  const note = (v: number, name: string) => {
    if (v > amount) {
      amount = v;
      where = name;
    }
  };
  const { columns, rows } = model;
  for (let j = 0; j < columns.names.length; j++) {
    const v = x[j]!;
    note(columns.lower[j]! - v, columns.names[j]!);
    note(v - columns.upper[j]!, columns.names[j]!);
    if (columns.integer[j]) note(Math.abs(v - Math.round(v)), columns.names[j]!);
  }
  for (let i = 0; i < rows.names.length; i++) {
    let activity = 0;
    for (let k = rows.starts[i]!; k < rows.starts[i + 1]!; k++) activity += rows.value[k]! * x[rows.index[k]!]!;
    const rhs = rows.rhs[i]!;
    const sense = rows.sense[i]!;
    if (sense !== '>=') note(activity - rhs, rows.names[i]!);
    if (sense !== '<=') note(rhs - activity, rows.names[i]!);
  }
  return { amount, where };
}
