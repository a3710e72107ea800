import { BadRequestError } from '../../kernel/errors.js';
import { parsePrice, type MicroPrice } from '../../kernel/money.js';
import { parseUtcInstant } from '../../kernel/time.js';

/**
 * Readers for scenario input: each checks one field and, when it is wrong, throws a
 * ScenarioError naming the field by its path (`sites[3].assets[0].capacityWh`), so a person
 * fixing a scenario file knows where to look.
 */
export class ScenarioError extends BadRequestError {
  constructor(readonly path: string, problem: string) {
    super(path === '' ? `the scenario ${problem}` : `${path}: ${problem}`, path);
  }
}

export type Fields = Readonly<Record<string, unknown>>;

const describe = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'not a finite number';
  return typeof value;
};

/** An object with only the given keys (a misspelt key is an error, not silently ignored). */
export function record(value: unknown, path: string, known: readonly string[]): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ScenarioError(path, `must be an object, found ${describe(value)}`);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new ScenarioError(join(path, key), `unknown field (known here: ${known.join(', ')})`);
  }
  return value as Fields;
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

export function list(value: unknown, path: string, limits: { min?: number; max?: number } = {}): readonly unknown[] {
  if (!Array.isArray(value)) throw new ScenarioError(path, `must be an array, found ${describe(value)}`);
  if (limits.min !== undefined && value.length < limits.min) throw new ScenarioError(path, `must have at least ${limits.min} entries, found ${value.length}`);
  if (limits.max !== undefined && value.length > limits.max) throw new ScenarioError(path, `must have at most ${limits.max} entries, found ${value.length}`);
  return value;
}

export interface NumberLimits {
  readonly min?: number;
  readonly max?: number;
  /** Strictly greater than min. */
  readonly above?: number;
  readonly integer?: boolean;
}

function checkNumber(value: unknown, path: string, limits: NumberLimits): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ScenarioError(path, `must be a finite number, found ${describe(value)}`);
  if (limits.integer && !Number.isInteger(value)) throw new ScenarioError(path, `must be a whole number, found ${value}`);
  if (limits.min !== undefined && value < limits.min) throw new ScenarioError(path, `must be at least ${limits.min}, found ${value}`);
  if (limits.above !== undefined && value <= limits.above) throw new ScenarioError(path, `must be greater than ${limits.above}, found ${value}`);
  if (limits.max !== undefined && value > limits.max) throw new ScenarioError(path, `must be at most ${limits.max}, found ${value}`);
  return value;
}

export function number(fields: Fields, key: string, path: string, limits: NumberLimits & { default?: number } = {}): number {
  const value = fields[key];
  if (value === undefined && limits.default !== undefined) return limits.default;
  if (value === undefined) throw new ScenarioError(join(path, key), 'is required');
  return checkNumber(value, join(path, key), limits);
}

export function optionalNumber(fields: Fields, key: string, path: string, limits: NumberLimits = {}): number | undefined {
  return fields[key] === undefined ? undefined : checkNumber(fields[key], join(path, key), limits);
}

export function boolean(fields: Fields, key: string, path: string, fallback: boolean): boolean {
  const value = fields[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ScenarioError(join(path, key), `must be true or false, found ${describe(value)}`);
  return value;
}

const ID = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/;

/** An id that becomes part of LP names: a letter, then letters, digits, `_` or `-` (written as `_`). */
export function id(fields: Fields, key: string, path: string): string {
  const value = fields[key];
  if (typeof value !== 'string' || !ID.test(value)) {
    throw new ScenarioError(join(path, key), `must be an id of 1–40 letters, digits, "_" or "-" starting with a letter, found ${describe(value)}`);
  }
  return value;
}

export function text(fields: Fields, key: string, path: string, fallback?: string): string {
  const value = fields[key];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || value.trim() === '' || value.length > 200) throw new ScenarioError(join(path, key), `must be a non-empty text of at most 200 characters, found ${describe(value)}`);
  return value;
}

/** What a field needs of the horizon (a `Horizon` is one): where it starts, how long a step is, how many. */
export interface StepGrid {
  readonly startMs: number;
  readonly stepMs: number;
  readonly steps: number;
}

/** A UTC instant as a step index of the horizon (may lie outside it: callers clamp). */
export function instantStep(value: unknown, path: string, horizon: StepGrid, round: 'floor' | 'ceil'): number {
  const ms = typeof value === 'string' ? parseUtcInstant(value) : undefined;
  if (ms === undefined) throw new ScenarioError(path, `must be a UTC instant like 2026-06-01T17:00:00Z, found ${describe(value)}`);
  const steps = (ms - horizon.startMs) / horizon.stepMs;
  return round === 'floor' ? Math.floor(steps) : Math.ceil(steps);
}

/** A number per step: one number for all steps, or an array with one per step. */
export function series(fields: Fields, key: string, path: string, horizon: StepGrid, limits: NumberLimits & { default?: number } = {}): Float64Array {
  const value = fields[key];
  const where = join(path, key);
  if (value === undefined) {
    if (limits.default === undefined) throw new ScenarioError(where, 'is required');
    return new Float64Array(horizon.steps).fill(limits.default);
  }
  if (typeof value === 'number') return new Float64Array(horizon.steps).fill(checkNumber(value, where, limits));
  const items = list(value, where);
  if (items.length !== horizon.steps) throw new ScenarioError(where, `must have one value per step (${horizon.steps}), found ${items.length}`);
  return Float64Array.from(items, (item, t) => checkNumber(item, `${where}[${t}]`, limits));
}

/** A price per kWh with at most 6 decimals, as a number or a decimal string. */
export function price(value: unknown, path: string): MicroPrice {
  const textValue = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof textValue !== 'string') throw new ScenarioError(path, `must be a price per kWh (a number or a decimal string), found ${describe(value)}`);
  try {
    return parsePrice(textValue);
  } catch {
    throw new ScenarioError(path, `must be a decimal price per kWh with at most 6 decimals, found ${describe(value)}`);
  }
}
