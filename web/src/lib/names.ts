/** What the API's vocabularies (roles, states, kinds) are called on screen. */
import type { BillingDetails, BillingProfile, StatementSummary } from '@gridshare/contract/billing';
import type { DeviceKind, DeviceRole, MemberRole as Role, MemberState, MeteringPoint } from '@gridshare/contract/registry';
import type { FlexActivationRequest, FlexContract, FlexMessage, FlexOrderSettlementView } from '@gridshare/contract/flex';
import type { MessageKey, Translate } from './i18n/index.js';

const DEVICE_KINDS: Record<DeviceKind, MessageKey> = {
  'meter-reader': 'kind.meterReader',
  inverter: 'kind.inverter',
  battery: 'kind.battery',
  'ev-charger': 'kind.evCharger',
  'smart-plug': 'kind.smartPlug',
  'heat-pump': 'kind.heatPump',
};

const DEVICE_ROLES: Record<DeviceRole, MessageKey> = {
  'billing-meter': 'deviceRole.billingMeter',
  production: 'deviceRole.production',
  storage: 'deviceRole.storage',
  'sub-load': 'deviceRole.subLoad',
};

const SITE_ROLES: Record<MeteringPoint['role'], MessageKey> = {
  consumer: 'site.roleConsumer',
  prosumer: 'site.roleProsumer',
  producer: 'site.roleProducer',
};

const MEMBER_ROLES: Record<Role, MessageKey> = { member: 'role.member', manager: 'role.manager' };

const MEMBER_STATES: Record<MemberState, MessageKey> = {
  requested: 'memberState.requested',
  active: 'memberState.active',
  rejected: 'memberState.rejected',
  left: 'memberState.left',
};

const isDeviceKind = (kind: string): kind is DeviceKind => Object.hasOwn(DEVICE_KINDS, kind);

/** A kind the server added after this app was built shows as the server names it. */
export const deviceKindName = (kind: string, t: Translate) => (isDeviceKind(kind) ? t(DEVICE_KINDS[kind]) : kind);
export const deviceRoleName = (role: DeviceRole, t: Translate) => t(DEVICE_ROLES[role]);
export const siteRoleName = (role: MeteringPoint['role'], t: Translate) => t(SITE_ROLES[role]);
export const memberRoleName = (role: Role, t: Translate) => t(MEMBER_ROLES[role]);
export const memberStateName = (state: MemberState, t: Translate) => t(MEMBER_STATES[state]);

/** "Statement", or "Correction 2" for a statement's second correction. */
export const documentName = (s: Pick<StatementSummary, 'kind' | 'sequence'>, t: Translate) => t('statements.documentName', { kind: s.kind, sequence: s.sequence });

const FLEX_SERVICES: Record<FlexContract['serviceType'], MessageKey> = {
  'capacity-management': 'manageFlex.service.capacity-management',
  'congestion-management': 'manageFlex.service.congestion-management',
};
const FLEX_CONTRACT_STATES: Record<FlexContract['state'], MessageKey> = { draft: 'manageFlex.state.draft', active: 'manageFlex.state.active', ended: 'manageFlex.state.ended' };
const FLEX_DISPOSITIONS: Record<FlexOrderSettlementView['disposition'], MessageKey> = { Accepted: 'manageFlex.disposition.Accepted', Disputed: 'manageFlex.disposition.Disputed' };
const FLEX_DIRECTIONS: Record<FlexMessage['direction'], MessageKey> = { in: 'manageFlex.direction.in', out: 'manageFlex.direction.out' };
const FLEX_REQUESTS: Record<FlexActivationRequest['direction'], MessageKey> = { decrease: 'flex.request.decrease', increase: 'flex.request.increase' };
const FLEX_REQUEST_STATES: Record<FlexActivationRequest['state'], MessageKey> = {
  pending: 'flex.requestState.pending', accepted: 'flex.requestState.accepted', declined: 'flex.requestState.declined',
};

export const flexServiceName = (service: FlexContract['serviceType'], t: Translate) => t(FLEX_SERVICES[service]);
export const flexContractStateName = (state: FlexContract['state'], t: Translate) => t(FLEX_CONTRACT_STATES[state]);
export const flexDispositionName = (disposition: FlexOrderSettlementView['disposition'], t: Translate) => t(FLEX_DISPOSITIONS[disposition]);
export const flexDirectionName = (direction: FlexMessage['direction'], t: Translate) => t(FLEX_DIRECTIONS[direction]);
export const flexRequestStateName = (state: FlexActivationRequest['state'], t: Translate) => t(FLEX_REQUEST_STATES[state]);
/** "Please use less with {device}: {span}". */
export const flexRequestText = (request: Pick<FlexActivationRequest, 'direction'>, values: { device: string; span: string }, t: Translate) =>
  t(FLEX_REQUESTS[request.direction], values);

const COMMUNITY_VAT_REGIMES: Record<BillingProfile['vat']['regime'], MessageKey> = {
  registered: 'billing.regime.registered', 'small-business': 'billing.regime.small-business', 'not-registered': 'billing.regime.not-registered',
};
const MEMBER_VAT_REGIMES: Record<BillingDetails['vat']['regime'], MessageKey> = {
  private: 'billing.memberRegime.private', 'small-business': 'billing.memberRegime.small-business', registered: 'billing.memberRegime.registered',
};
export const communityVatRegimeName = (regime: BillingProfile['vat']['regime'], t: Translate) => t(COMMUNITY_VAT_REGIMES[regime]);
export const memberVatRegimeName = (regime: BillingDetails['vat']['regime'], t: Translate) => t(MEMBER_VAT_REGIMES[regime]);
