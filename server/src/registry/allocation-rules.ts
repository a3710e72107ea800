/**
 * The allocation rules a community can choose (see sharing/). Country presets map onto the
 * generic rules with their parameters.
 */
export const ALLOCATION_RULES = [
  'static',
  'dynamic',
  'static-redistributed',
  'at-eeg-static',
  'at-eeg-dynamic',
  'fr-acc-default',
  'fr-acc-static',
  'fr-acc-dynamic-simple',
  'es-coefficients',
  'it-cer',
] as const;

export type AllocationRuleName = (typeof ALLOCATION_RULES)[number];
