/**
 * The part of JSON Schema a connector kind's configuration uses, read for a generated form:
 * which control a schema gets, the choices of a union told apart by a constant (`type`,
 * `action`), and values set and cleared by path. Pure, so it is tested without a browser.
 */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  patternProperties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  writeOnly?: boolean;
  minimum?: number;
  maximum?: number;
}

export type Control =
  | { kind: 'text'; secret: boolean }
  | { kind: 'number'; integer: boolean }
  | { kind: 'boolean' }
  | { kind: 'enum'; options: string[] }
  | { kind: 'object' }
  | { kind: 'choice'; key: string; branches: { value: string; schema: JsonSchema }[] }
  | { kind: 'list' }
  /** Anything else (records, free JSON): edited as JSON text. */
  | { kind: 'json' };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The constant a union's branch is named by (`type: 'bearer'`), if every branch has one under the same key. */
function discriminator(branches: readonly JsonSchema[]): string | undefined {
  const first = branches[0]?.properties;
  if (!first) return undefined;
  return Object.keys(first).find((key) => branches.every((b) => typeof b.properties?.[key]?.const === 'string'));
}

export function controlOf(schema: JsonSchema): Control {
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    const key = discriminator(branches);
    if (key) return { kind: 'choice', key, branches: branches.map((b) => ({ value: b.properties![key]!.const as string, schema: b })) };
    return { kind: 'json' };
  }
  if (schema.enum && schema.enum.every((v) => typeof v === 'string')) return { kind: 'enum', options: schema.enum as string[] };
  switch (schema.type) {
    case 'string': return { kind: 'text', secret: schema.writeOnly === true };
    case 'number': return { kind: 'number', integer: false };
    case 'integer': return { kind: 'number', integer: true };
    case 'boolean': return { kind: 'boolean' };
    case 'object': return schema.properties ? { kind: 'object' } : { kind: 'json' };
    case 'array': return schema.items?.type === 'object' && schema.items.properties ? { kind: 'list' } : { kind: 'json' };
    default: return { kind: 'json' };
  }
}

/** A new value for a schema: its default, else an object of its required parts, else nothing. */
export function initialValue(schema: JsonSchema): unknown {
  if (schema.default !== undefined) return structuredClone(schema.default);
  const control = controlOf(schema);
  if (control.kind === 'choice') {
    const first = control.branches[0]!;
    return { ...(initialValue(first.schema) as Record<string, unknown>), [control.key]: first.value };
  }
  if (control.kind === 'object') {
    const value: Record<string, unknown> = {};
    for (const key of schema.required ?? []) {
      const child = schema.properties![key]!;
      if (child.const !== undefined) value[key] = child.const;
      else if (child.default !== undefined) value[key] = structuredClone(child.default);
      else if (controlOf(child).kind === 'object' || controlOf(child).kind === 'choice' || child.type === 'array') {
        const initial = initialValue(child);
        if (initial !== undefined) value[key] = initial;
      }
    }
    return value;
  }
  if (schema.type === 'array' && control.kind === 'list') return [];
  return undefined;
}

/** The branch of a choice a value names, or the first. */
export function chosenBranch(control: Extract<Control, { kind: 'choice' }>, value: unknown) {
  const named = isRecord(value) ? value[control.key] : undefined;
  return control.branches.find((b) => b.value === named) ?? control.branches[0]!;
}

/** A copy of `root` with `value` at `path` (undefined removes the field). */
export function setAt(root: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (typeof head === 'number') {
    const list = Array.isArray(root) ? [...root] : [];
    list[head] = setAt(list[head], rest, value);
    return list;
  }
  const record: Record<string, unknown> = isRecord(root) ? { ...root } : {};
  const next = setAt(record[head], rest, value);
  if (next === undefined) delete record[head];
  else record[head] = next;
  return record;
}

export function getAt(root: unknown, path: readonly (string | number)[]): unknown {
  let node = root;
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[part];
  }
  return node;
}

/** The JSON pointer the server names a secret by (`/auth/token`). */
export const pointerOf = (path: readonly (string | number)[]) => path.map((p) => `/${p}`).join('');

/** Text typed into a number field as the number it means, undefined when empty or not a number. */
export function parseNumber(text: string, integer: boolean): number | undefined {
  if (text.trim() === '') return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) return undefined;
  return n;
}
