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
