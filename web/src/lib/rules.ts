import type { AllocationMode, ALLOCATION_RULES } from '@gridshare/contract/registry';
import type { MessageKey, Translate } from './i18n/index.js';

/** What each allocation rule (server/src/registry/allocation-rules.ts) is called on screen. */
const RULE_NAMES: Record<(typeof ALLOCATION_RULES)[number], MessageKey> = {
  static: 'rule.static',
  dynamic: 'rule.dynamic',
  'static-redistributed': 'rule.staticRedistributed',
  'at-eeg-static': 'rule.atEegStatic',
  'at-eeg-dynamic': 'rule.atEegDynamic',
  'fr-acc-default': 'rule.frAccDefault',
  'fr-acc-static': 'rule.frAccStatic',
  'fr-acc-dynamic-simple': 'rule.frAccDynamicSimple',
  'es-coefficients': 'rule.esCoefficients',
  'it-cer': 'rule.itCer',
};

const isKnownRule = (rule: string): rule is keyof typeof RULE_NAMES => Object.hasOwn(RULE_NAMES, rule);

/** A rule's name in the page's language; a rule this app does not know yet by its id. */
export const ruleName = (rule: string, t: Translate) => (isKnownRule(rule) ? t(RULE_NAMES[rule]) : rule);

/**
 * Rules that split by the community's static key (README "Energy sharing"); the others need
 * nothing besides the meters. Kept equal to the server's registry by web/e2e/contract.test.ts.
 */
export const RULES_WITH_SHARES: ReadonlySet<string> = new Set([
  'static', 'static-redistributed', 'at-eeg-static', 'fr-acc-static', 'fr-acc-dynamic-simple', 'es-coefficients',
]);

export const MODE_NAMES: Record<AllocationMode, MessageKey> = {
  compute: 'mode.compute',
  operator: 'mode.operator',
};
