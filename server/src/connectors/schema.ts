import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { Type, type TSchema } from 'typebox';
import { QUANTITY_UNITS } from '../kernel/quantities.js';

/**
 * Schema pieces the kinds share, and validation of configurations, states and commands against
 * a kind's schemas (ajv, as the HTTP layer uses, with defaults filled in). Secrets are marked
 * `writeOnly`: instances keep those fields sealed and never return them.
 */
export const QuantitySchema = Type.Enum(Object.keys(QUANTITY_UNITS) as [keyof typeof QUANTITY_UNITS, ...(keyof typeof QUANTITY_UNITS)[]], {
  description: 'Gridshare quantity',
});

export const Secret = (description: string) => Type.String({ minLength: 1, maxLength: 8192, writeOnly: true, description });

export const Host = Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:\\[\\]_-]+$', description: 'Host name or IP address' });
export const Port = (defaultPort: number) => Type.Integer({ minimum: 1, maximum: 65535, default: defaultPort });
export const TargetName = Type.String({ minLength: 1, maxLength: 120, pattern: '^[^\\s]', description: 'Output the readings are bound to (an instance binds it to a device)' });
export const TimeZone = Type.String({ minLength: 1, maxLength: 64, default: 'UTC', description: 'IANA time zone of timestamps without an offset' });
export const TimestampFormatSchema = Type.String({
  minLength: 1, maxLength: 64, default: 'iso',
  description: 'iso, unix-s, unix-ms or a pattern such as "DD.MM.YYYY HH:mm" (tokens YYYY MM DD HH mm ss SSS)',
});

/** A value field mapped to a target, a quantity and the unit the source writes. */
export const ValueMappingSchema = (fieldDescription: string) => Type.Object({
  field: Type.String({ minLength: 1, maxLength: 500, description: fieldDescription }),
  target: Type.Optional(TargetName),
  targetField: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Field holding the target (one row per target)' })),
  quantity: QuantitySchema,
  unit: Type.String({ minLength: 1, maxLength: 16, description: 'Unit the source writes: kWh, Wh, kW, W, V, A, Hz, %, …' }),
  negativeQuantity: Type.Optional(QuantitySchema),
}, { additionalProperties: false });

const ajv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: false, removeAdditional: false, strict: false });
addFormats.default(ajv);
const compiled = new WeakMap<TSchema, ValidateFunction>();

function validator(schema: TSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/** A copy of `value` with defaults filled in, or the problems (each names its field). */
export function validateAgainst(schema: TSchema, value: unknown): { value: unknown } | { problems: string[] } {
  const copy: unknown = value === undefined ? undefined : structuredClone(value);
  const validate = validator(schema);
  if (validate(copy)) return { value: copy };
  return { problems: describeErrors(validate.errors ?? [], copy) };
}

/**
 * ajv reports every branch of a union that did not match; a person wants the branch they meant.
 * Where a union's branches are told apart by a `type` constant, only the errors of the branch
 * whose `type` the value names are kept.
 */
function describeErrors(errors: readonly ErrorObject[], data: unknown): string[] {
  const unionFailures = errors.filter((e) => e.keyword === 'anyOf');
  let kept = errors.filter((e) => e.keyword !== 'anyOf');
  for (const union of unionFailures) {
    const branchPrefix = `${union.schemaPath}/`;
    const value = pointer(data, union.instancePath);
    const chosen = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)['type'] : undefined;
    const inUnion = kept.filter((e) => e.schemaPath.startsWith(branchPrefix));
    const branches = new Map<string, ErrorObject[]>();
    for (const e of inUnion) {
      const branch = e.schemaPath.slice(branchPrefix.length).split('/')[0]!;
      branches.set(branch, [...(branches.get(branch) ?? []), e]);
    }
    const discriminated = [...branches.values()].every((es) => es.some((e) => e.instancePath === `${union.instancePath}/type` && e.keyword === 'const'));
    const matching = [...branches.values()].find((es) => !es.some((e) => e.instancePath === `${union.instancePath}/type` && e.keyword === 'const'));
    kept = kept.filter((e) => !e.schemaPath.startsWith(branchPrefix));
    if (matching) kept.push(...matching);
    else if (discriminated) kept.push({ ...union, message: `type ${JSON.stringify(chosen)} is not one of the choices` });
    else kept.push(union);
  }
  const messages = kept.map((e) => {
    const where = e.instancePath === '' ? 'config' : e.instancePath.slice(1);
    if (e.keyword === 'additionalProperties') return `${where}: unknown field "${String((e.params as { additionalProperty: string }).additionalProperty)}"`;
    if (e.keyword === 'enum') return `${where}: must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues).slice(0, 12).map((v) => JSON.stringify(v)).join(', ')}`;
    return `${where}: ${e.message ?? 'is not valid'}`;
  });
  return [...new Set(messages)].slice(0, 8);
}

function pointer(data: unknown, path: string): unknown {
  let current = data;
  for (const part of path.split('/').slice(1)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return current;
}

/**
 * JSON pointers (with `*` for array items and every union branch) of the `writeOnly` fields of
 * a schema: what instances seal and leave out of API answers.
 */
export function secretPaths(schema: TSchema): string[] {
  const paths = new Set<string>();
  const walk = (node: unknown, path: string): void => {
    if (node === null || typeof node !== 'object') return;
    const s = node as Record<string, unknown>;
    if (s['writeOnly'] === true) paths.add(path);
    if (s['properties'] && typeof s['properties'] === 'object') {
      for (const [key, child] of Object.entries(s['properties'] as Record<string, unknown>)) walk(child, `${path}/${key}`);
    }
    if (s['items']) walk(s['items'], `${path}/*`);
    for (const union of ['anyOf', 'oneOf', 'allOf']) {
      if (Array.isArray(s[union])) for (const branch of s[union] as unknown[]) walk(branch, path);
    }
  };
  walk(schema, '');
  return [...paths];
}

/** The configuration with every secret field removed, for logs, status pages and API answers. */
export function withoutSecrets(schema: TSchema, config: unknown): unknown {
  const copy = structuredClone(config);
  for (const path of secretPaths(schema)) removeAt(copy, path.split('/').slice(1));
  return copy;
}

function removeAt(node: unknown, parts: readonly string[]): void {
  if (node === null || typeof node !== 'object' || parts.length === 0) return;
  const [head, ...rest] = parts as [string, ...string[]];
  if (head === '*') {
    if (Array.isArray(node)) for (const item of node) removeAt(item, rest);
    return;
  }
  const record = node as Record<string, unknown>;
  if (rest.length === 0) delete record[head];
  else removeAt(record[head], rest);
}
