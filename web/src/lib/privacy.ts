/** Names of the privacy capability's codes (processing purposes, data categories, who read) as catalog keys, one literal each. */
import type { MessageKey, Translate } from './i18n/index.js';

export const PURPOSE_TITLES: Readonly<Record<string, MessageKey>> = {
  membership: 'privacy.purpose.membership.title',
  metering: 'privacy.purpose.metering.title',
  sharing: 'privacy.purpose.sharing.title',
  billing: 'privacy.purpose.billing.title',
  settlement: 'privacy.purpose.settlement.title',
  disputes: 'privacy.purpose.disputes.title',
  forecasting: 'privacy.purpose.forecasting.title',
  control: 'privacy.purpose.control.title',
  flexibility: 'privacy.purpose.flexibility.title',
  market: 'privacy.purpose.market.title',
  'verifiable-record': 'privacy.purpose.verifiable-record.title',
  security: 'privacy.purpose.security.title',
  'consented-sharing': 'privacy.purpose.consented-sharing.title',
  'data-subject-rights': 'privacy.purpose.data-subject-rights.title',
};

export const PURPOSE_DESCRIPTIONS: Readonly<Record<string, MessageKey>> = {
  membership: 'privacy.purpose.membership.description',
  metering: 'privacy.purpose.metering.description',
  sharing: 'privacy.purpose.sharing.description',
  billing: 'privacy.purpose.billing.description',
  settlement: 'privacy.purpose.settlement.description',
  disputes: 'privacy.purpose.disputes.description',
  forecasting: 'privacy.purpose.forecasting.description',
  control: 'privacy.purpose.control.description',
  flexibility: 'privacy.purpose.flexibility.description',
  market: 'privacy.purpose.market.description',
  'verifiable-record': 'privacy.purpose.verifiable-record.description',
  security: 'privacy.purpose.security.description',
  'consented-sharing': 'privacy.purpose.consented-sharing.description',
  'data-subject-rights': 'privacy.purpose.data-subject-rights.description',
};

export const CATEGORY_NAMES: Readonly<Record<string, MessageKey>> = {
  identity: 'privacy.category.identity',
  contact: 'privacy.category.contact',
  credentials: 'privacy.category.credentials',
  address: 'privacy.category.address',
  'metering-point-ids': 'privacy.category.metering-point-ids',
  devices: 'privacy.category.devices',
  readings: 'privacy.category.readings',
  intervals: 'privacy.category.intervals',
  'energy-by-source': 'privacy.category.energy-by-source',
  forecasts: 'privacy.category.forecasts',
  schedules: 'privacy.category.schedules',
  statements: 'privacy.category.statements',
  market: 'privacy.category.market',
  flexibility: 'privacy.category.flexibility',
  consents: 'privacy.category.consents',
  'access-log': 'privacy.category.access-log',
  'ledger-commitments': 'privacy.category.ledger-commitments',
};

export const ACCESSOR_KINDS: Readonly<Record<string, MessageKey>> = {
  manager: 'privacy.accessorKind.manager',
  admin: 'privacy.accessorKind.admin',
  recipient: 'privacy.accessorKind.recipient',
  export: 'privacy.accessorKind.export',
};

export const CONSENT_STATES: Readonly<Record<string, MessageKey>> = {
  active: 'privacy.consentState.active',
  revoked: 'privacy.consentState.revoked',
  expired: 'privacy.consentState.expired',
  pending: 'privacy.consentState.pending',
};

export const RESOLUTION_NAMES: Readonly<Record<string, MessageKey>> = {
  '15m': 'privacy.resolution.15m',
  '1h': 'privacy.resolution.1h',
  '1d': 'privacy.resolution.1d',
  '1mo': 'privacy.resolution.1mo',
};

export const QUANTITY_NAMES: Readonly<Record<string, MessageKey>> = {
  import: 'privacy.quantity.import',
  export: 'privacy.quantity.export',
  pv: 'privacy.quantity.pv',
};

export const ERASURE_STATES: Readonly<Record<string, MessageKey>> = {
  requested: 'privacy.erasureState.requested',
  done: 'privacy.erasureState.done',
  failed: 'privacy.erasureState.failed',
};

/** A name for a code, or the code itself when it is new to this version of the app. */
export const EXPORT_JOB_KINDS: Readonly<Record<string, MessageKey>> = {
  member: 'privacy.exportJobKind.member',
  'regulator-intervals': 'privacy.exportJobKind.regulator-intervals',
};

export const EXPORT_JOB_STATES: Readonly<Record<string, MessageKey>> = {
  queued: 'privacy.exportJobState.queued',
  running: 'privacy.exportJobState.running',
  done: 'privacy.exportJobState.done',
  failed: 'privacy.exportJobState.failed',
};

export const REQUESTER_KINDS: Readonly<Record<string, MessageKey>> = {
  member: 'privacy.requesterKind.member',
  manager: 'privacy.requesterKind.manager',
  admin: 'privacy.requesterKind.admin',
};

export const OFFER_STATES: Readonly<Record<string, MessageKey>> = {
  open: 'privacy.offerState.open',
  closed: 'privacy.offerState.closed',
  withdrawn: 'privacy.offerState.withdrawn',
};

export const OFFER_AUDIENCES: Readonly<Record<string, MessageKey>> = {
  members: 'privacy.offerAudience.members',
  anyone: 'privacy.offerAudience.anyone',
};

export const nameOf = (names: Readonly<Record<string, MessageKey>>, code: string, t: Translate): string => {
  const key = names[code];
  return key ? t(key) : code;
};

/** The masking rules' names (the server's rule registry: keep, drop, hash, postcode, hourly). */
export const MASKING_RULE_NAMES: Readonly<Record<string, MessageKey>> = {
  keep: 'privacy.masking.rule.keep',
  drop: 'privacy.masking.rule.drop',
  hash: 'privacy.masking.rule.hash',
  postcode: 'privacy.masking.rule.postcode',
  hourly: 'privacy.masking.rule.hourly',
};

export const MASKED_EXPORT_NAMES: Readonly<Record<string, MessageKey>> = {
  'regulator-intervals': 'privacy.masking.export.regulator-intervals',
};
