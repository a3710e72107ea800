/** What the API's vocabularies (roles, states, kinds) are called on screen. */
import type { StatementSummary } from '@gridshare/contract/billing';
import type { DeviceKind, DeviceRole, MemberRole as Role, MemberState, MeteringPoint } from '@gridshare/contract/registry';
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
