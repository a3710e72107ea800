/**
 * The audit trail's diff: what changed between a resource's state before and after a change, as
 * paths with their old and new values. Values are masked first, so no secret or personal value
 * ever reaches the trail (or the event that carries it).
 */

/** A state as a capability reads it back for the trail: plain JSON. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** One changed path; a side is null where the path did not exist (created or removed). */
export interface DiffLine {
  readonly path: string;
  readonly before: string | null;
  readonly after: string | null;
}

/** A secret's value is never stored, only that it changed. */
export const SECRET_MARK = '[secret]';
/** A personal field's value is kept out of the trail (the trail outlives erasure); that it changed is kept. */
export const PERSONAL_MARK = '[personal]';

/** Words that make a field a secret wherever they end its name (`primaryKey`, `api_token`, `passwordHash`). */
const SECRET_WORDS = new Set(['password', 'passwords', 'secret', 'secrets', 'token', 'tokens', 'key', 'keys', 'hash', 'salt', 'credential', 'credentials', 'pin', 'seed', 'signature', 'sas', 'connectionstring', 'authorization', 'cookie']);
/** Whole field names that hold personal data. */
const PERSONAL_FIELDS = new Set(['email', 'displayname', 'firstname', 'lastname', 'fullname', 'address', 'street', 'phone', 'iban', 'bic', 'accountholder', 'birthdate', 'dateofbirth']);

/** The words of a field name: camelCase, snake_case and kebab-case are split. */
function words(field: string): string[] {
  return field.replace(/([a-z0-9])([A-Z])/g, '$1 $2').split(/[\s_-]+/).map((word) => word.toLowerCase()).filter(Boolean);
}

export function isSecretField(field: string): boolean {
  const parts = words(field);
  if (parts.join('') === 'connectionstring') return true;
  return parts.some((word) => SECRET_WORDS.has(word)) && !parts.includes('id') && !parts.includes('ids');
}

export function isPersonalField(field: string): boolean {
  return PERSONAL_FIELDS.has(words(field).join(''));
}

/** A copy of `value` with every secret and personal field replaced by its mark, at any depth. */
export function mask(value: Json): Json {
  if (Array.isArray(value)) return value.map(mask);
  if (value === null || typeof value !== 'object') return value;
  const masked: Record<string, Json> = {};
  for (const [field, inner] of Object.entries(value as { readonly [key: string]: Json })) {
    if (isSecretField(field)) masked[field] = SECRET_MARK;
    else if (isPersonalField(field) && inner !== null) masked[field] = PERSONAL_MARK;
    else masked[field] = mask(inner);
  }
  return masked;
}

const isObject = (value: Json | undefined): value is { readonly [key: string]: Json } =>
  value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value);

/** Leaf paths of a state: objects are walked, arrays and scalars are values. */
function flatten(value: Json | undefined, path: string, into: Map<string, string>): void {
  if (value === undefined) return;
  if (isObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0 && path) into.set(path, '{}');
    for (const [field, inner] of entries) flatten(inner, path ? `${path}.${field}` : field, into);
    return;
  }
  into.set(path || '$', JSON.stringify(value));
}

/**
 * What changed from `before` to `after` (null: the resource did not exist, or no longer does),
 * masked, sorted by path. A secret that changed shows as `[secret]` on both sides and still
 * appears, so "the key was rotated" is on the record without the key.
 */
export function diff(before: Json | null, after: Json | null): DiffLine[] {
  const old = new Map<string, string>();
  const now = new Map<string, string>();
  if (before !== null) flatten(mask(before), '', old);
  if (after !== null) flatten(mask(after), '', now);
  const secretChanged = secretPathsChanged(before, after);
  const lines: DiffLine[] = [];
  for (const path of [...new Set([...old.keys(), ...now.keys()])].sort()) {
    const was = old.get(path) ?? null;
    const is = now.get(path) ?? null;
    if (was !== is || secretChanged.has(path)) lines.push({ path, before: was, after: is });
  }
  return lines;
}

/** Paths whose masked value hides a change: compared on the real values, which go no further. */
function secretPathsChanged(before: Json | null, after: Json | null): Set<string> {
  const changed = new Set<string>();
  const walk = (was: Json | undefined, is: Json | undefined, path: string) => {
    if (isObject(was) || isObject(is)) {
      const a = isObject(was) ? was : {};
      const b = isObject(is) ? is : {};
      for (const field of new Set([...Object.keys(a), ...Object.keys(b)])) {
        const inner = path ? `${path}.${field}` : field;
        if ((isSecretField(field) || isPersonalField(field)) && JSON.stringify(a[field]) !== JSON.stringify(b[field])) changed.add(inner);
        else walk(a[field], b[field], inner);
      }
    }
  };
  walk(before ?? undefined, after ?? undefined, '');
  return changed;
}
