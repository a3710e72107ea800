import { HOUR_MS } from '../../../kernel/time.js';
import { hmacSha256Hex } from '../crypto.js';
import { postcodeOf } from './postcode.js';
import type { FieldType } from './schemas.js';

/**
 * Masking rules by name, the building blocks of a manager's rule sets (GENTE's "user-defined
 * rule sets that remove or mask personally identifiable data"). A rule either transforms each
 * value of a field, drops the field, or coarsens the rows' time grain.
 */

export interface MaskingContext {
  /** The community's secret salt for `hash` (≥ 16 random bytes, kept like other secrets). */
  readonly salt?: Uint8Array;
  /** The community's country, for `postcode`. */
  readonly country?: string;
}

export type RuleEffect =
  | { readonly kind: 'keep' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'value'; readonly needs: 'salt' | 'country'; transform(value: string, context: Required<MaskingContext>): string }
  | { readonly kind: 'time-grain'; readonly stepMs: number };

export interface MaskingRule {
  readonly name: string;
  readonly summary: string;
  /** Field types the rule makes sense for; any other is refused when a rule set is checked. */
  readonly appliesTo: readonly FieldType[] | 'any';
  readonly effect: RuleEffect;
}

const rules = new Map<string, MaskingRule>();

export function registerMaskingRule(rule: MaskingRule): void {
  if (rules.has(rule.name)) throw new Error(`masking rule ${rule.name} is registered twice`);
  rules.set(rule.name, rule);
}

export const getMaskingRule = (name: string): MaskingRule | undefined => rules.get(name);
export const maskingRuleNames = (): string[] => [...rules.keys()];

/** The least a salt must hold: 128 bits make the hashes unguessable by trying known ids. */
export const MIN_SALT_BYTES = 16;
/** 128 bits of the HMAC: unique among any community's identifiers, short enough for a spreadsheet. */
const HASH_HEX_DIGITS = 32;

registerMaskingRule({ name: 'keep', summary: 'pass the value through unchanged', appliesTo: 'any', effect: { kind: 'keep' } });

registerMaskingRule({ name: 'drop', summary: 'remove the field from the export', appliesTo: 'any', effect: { kind: 'drop' } });

registerMaskingRule({
  name: 'hash',
  summary: 'replace the value by its HMAC-SHA-256 under the community salt (the same value gives the same hash in every export of the community; without the salt it cannot be traced back)',
  appliesTo: ['identifier', 'name', 'email', 'address', 'text'],
  effect: {
    kind: 'value',
    needs: 'salt',
    // An empty value stays empty: its hash would only say "empty" in a less readable way.
    transform: (value, context) => (value === '' ? '' : hmacSha256Hex(context.salt, value).slice(0, HASH_HEX_DIGITS)),
  },
});

registerMaskingRule({
  name: 'postcode',
  summary: 'keep only the postcode of an address (empty when the address has none)',
  appliesTo: ['address'],
  effect: { kind: 'value', needs: 'country', transform: (value, context) => postcodeOf(value, context.country) },
});

registerMaskingRule({
  name: 'hourly',
  summary: 'generalise the time series to hours: the quarter hours of each hour are summed into one row (energy summed, the worst quality kept)',
  appliesTo: ['instant'],
  effect: { kind: 'time-grain', stepMs: HOUR_MS },
});
