import type { AllocationMode } from '../api/types.js';

/** What each allocation rule (server/src/registry/allocation-rules.ts) is called on screen. */
const RULE_NAMES: Record<string, string> = {
  static: 'Static shares',
  dynamic: 'Dynamic (by consumption)',
  'static-redistributed': 'Static shares, surplus redistributed',
  'at-eeg-static': 'Austria EEG, static',
  'at-eeg-dynamic': 'Austria EEG, dynamic',
  'fr-acc-default': 'France ACC, default',
  'fr-acc-static': 'France ACC, static',
  'fr-acc-dynamic-simple': 'France ACC, simple dynamic',
  'es-coefficients': 'Spain, hourly coefficients',
  'it-cer': 'Italy CER, virtual sharing',
};

export const ruleName = (rule: string) => RULE_NAMES[rule] ?? rule;

/**
 * Rules that split by the community's static key (README "Energy sharing"); the others need
 * nothing besides the meters. Kept equal to the server's registry by web/e2e/contract.test.ts.
 */
export const RULES_WITH_SHARES: ReadonlySet<string> = new Set([
  'static', 'static-redistributed', 'at-eeg-static', 'fr-acc-static', 'fr-acc-dynamic-simple', 'es-coefficients',
]);

export const MODE_NAMES: Record<AllocationMode, string> = {
  compute: 'Computed by Gridshare with the rule below',
  operator: 'From the grid operator\'s figures (EDA)',
};
