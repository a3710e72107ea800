import { BadRequestError } from '../../../kernel/errors.js';
import { postcodeCountries } from './postcode.js';
import { getMaskingRule, maskingRuleNames, MIN_SALT_BYTES, type MaskingContext, type MaskingRule } from './rules.js';
import { exportSchemaNames, getExportSchema, type ExportField, type ExportSchema } from './schemas.js';

/**
 * A manager's rule set: for one export schema, a rule per field; fields not named follow
 * `otherFields`. Stored as JSON, e.g.
 *
 *   { "name": "regulator", "schema": "regulator-intervals", "otherFields": "keep",
 *     "fields": { "member_name": "drop", "metering_point": "hash", "address": "postcode", "interval_start": "hourly" } }
 */
export interface MaskingRuleSet {
  readonly name: string;
  readonly schema: string;
  readonly fields: Readonly<Record<string, string>>;
  /** What happens to fields the set does not name: `drop` is the cautious choice, `keep` the convenient one. */
  readonly otherFields: 'keep' | 'drop';
}

export interface CompiledField extends ExportField {
  readonly rule: MaskingRule;
}

export interface CompiledMasking {
  readonly ruleSet: MaskingRuleSet;
  readonly schema: ExportSchema;
  readonly fields: readonly CompiledField[];
  /** The instant field rows are generalised on, and the new step; null when rows pass one by one. */
  readonly timeGrain: { readonly field: string; readonly stepMs: number } | null;
  readonly context: MaskingContext;
}

const RULE_SET_KEYS = ['name', 'schema', 'fields', 'otherFields'];

/** A rule set from parsed JSON: its shape only (names checked by `compileRuleSet`). */
export function parseRuleSet(value: unknown): MaskingRuleSet {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadRequestError('a masking rule set is a JSON object', 'ruleSet');
  const object = value as Record<string, unknown>;
  const extra = Object.keys(object).filter((k) => !RULE_SET_KEYS.includes(k));
  if (extra.length > 0) throw new BadRequestError(`unknown key ${extra.map((k) => `"${k}"`).join(', ')} (a rule set has ${RULE_SET_KEYS.join(', ')})`, 'ruleSet');
  const { name, schema, fields, otherFields = 'keep' } = object;
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/.test(name)) throw new BadRequestError('name is 1 to 64 letters, digits, spaces, . _ -', 'ruleSet/name');
  if (typeof schema !== 'string') throw new BadRequestError('schema names an export (e.g. "allocation")', 'ruleSet/schema');
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw new BadRequestError('fields maps field names to rule names', 'ruleSet/fields');
  for (const [field, rule] of Object.entries(fields)) {
    if (typeof rule !== 'string') throw new BadRequestError(`the rule for ${field} is a rule name`, `ruleSet/fields/${field}`);
  }
  if (otherFields !== 'keep' && otherFields !== 'drop') throw new BadRequestError('otherFields is "keep" or "drop"', 'ruleSet/otherFields');
  return { name, schema, fields: fields as Record<string, string>, otherFields };
}

/**
 * Checks a rule set against its schema and the registered rules, and binds it to the
 * community's salt and country. Every problem is reported at once: an unknown field or rule,
 * a rule that does not fit the field's type, a second time rule, a figure that cannot be
 * generalised, a missing or short salt, a country without a postcode pattern.
 */
export function compileRuleSet(ruleSet: MaskingRuleSet, context: MaskingContext): CompiledMasking {
  const schema = getExportSchema(ruleSet.schema);
  if (!schema) throw new BadRequestError(`unknown export schema "${ruleSet.schema}" (known: ${exportSchemaNames().join(', ')})`, 'ruleSet/schema');
  const problems: string[] = [];
  const known = new Set(schema.fields.map((f) => f.name));
  for (const [field, ruleName] of Object.entries(ruleSet.fields)) {
    if (!known.has(field)) problems.push(`unknown field "${field}" (the ${schema.name} export has ${[...known].join(', ')})`);
    if (!getMaskingRule(ruleName)) problems.push(`unknown rule "${ruleName}" for ${field} (rules: ${maskingRuleNames().join(', ')})`);
  }
  const fields: CompiledField[] = [];
  let timeGrain: CompiledMasking['timeGrain'] = null;
  for (const field of schema.fields) {
    const rule = getMaskingRule(ruleSet.fields[field.name] ?? ruleSet.otherFields);
    if (!rule) continue;
    if (rule.appliesTo !== 'any' && !rule.appliesTo.includes(field.type)) {
      problems.push(`rule "${rule.name}" does not apply to ${field.name} (a ${field.type} field; it applies to ${rule.appliesTo.join(', ')})`);
    }
    if (rule.effect.kind === 'time-grain') {
      if (timeGrain) problems.push(`only one field can carry a time rule (${timeGrain.field} and ${field.name} do)`);
      timeGrain = { field: field.name, stepMs: rule.effect.stepMs };
    }
    if (rule.effect.kind === 'value' && rule.effect.needs === 'salt' && (context.salt === undefined || context.salt.length < MIN_SALT_BYTES)) {
      problems.push(`rule "${rule.name}" on ${field.name} needs the community's salt of at least ${MIN_SALT_BYTES} bytes`);
    }
    if (rule.effect.kind === 'value' && rule.effect.needs === 'country' && (context.country === undefined || !postcodeCountries().includes(context.country))) {
      problems.push(`rule "${rule.name}" on ${field.name} needs the community's country, one of ${postcodeCountries().join(', ')} (got ${context.country ?? 'none'})`);
    }
    fields.push({ ...field, rule });
  }
  // Optional fields are checked when a file shows them (createMasker).
  const grainProblem = timeGrainProblem(fields.filter((f) => !f.optional), timeGrain);
  if (grainProblem) problems.push(grainProblem);
  if (problems.length > 0) throw new BadRequestError(`masking rule set "${ruleSet.name}" refused: ${problems.join('; ')}`, 'ruleSet');
  return { ruleSet, schema, fields, timeGrain, context };
}

/**
 * Figures that cannot be summed into the coarser grain (a share, a second instant) must be
 * dropped when a time rule applies; undefined when none is kept.
 */
export function timeGrainProblem(fields: readonly CompiledField[], timeGrain: CompiledMasking['timeGrain']): string | undefined {
  if (!timeGrain) return undefined;
  const blocking = fields.filter((f) => (f.type === 'number' || f.type === 'instant') && f.name !== timeGrain.field && f.rule.effect.kind !== 'drop');
  return blocking.length === 0 ? undefined : `${blocking.map((f) => `${f.name} (a ${f.type} field)`).join(', ')} cannot be generalised to the time rule of ${timeGrain.field}: drop it`;
}

/**
 * What an export applies while the community has set no rules of its own: privacy by default —
 * names and emails dropped, identifiers hashed under the community's salt, addresses cut to the
 * postcode (dropped where the country's postcodes are not known), every figure and the quarter
 * hours kept. A manager relaxes or tightens it per export.
 */
export function defaultRuleSet(schema: ExportSchema, country: string | undefined): MaskingRuleSet {
  const address = country !== undefined && postcodeCountries().includes(country) ? 'postcode' : 'drop';
  const byType: Partial<Record<ExportField['type'], string>> = { identifier: 'hash', name: 'drop', email: 'drop', text: 'drop', address };
  const fields = Object.fromEntries(schema.fields.flatMap((f) => (byType[f.type] ? [[f.name, byType[f.type]!]] : [])));
  return { name: 'default', schema: schema.name, fields, otherFields: 'keep' };
}
