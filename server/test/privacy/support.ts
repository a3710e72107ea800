import { createGrant, type Grant, type GrantDraft } from '../../src/privacy/domain/index.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** 2026-03-01T00:00:00Z */
export const T0 = Date.UTC(2026, 2, 1);

export const ANNA = 'member-anna';
export const BERT = 'member-bert';
export const CARA = 'member-cara';
export const ANNA_POINTS = new Set(['AT0010000000000000001000000000001', 'AT0010000000000000001000000000002']);
export const [ANNA_HOME, ANNA_GARAGE] = [...ANNA_POINTS] as [string, string];

/** Anna grants Bert hourly import of her home from T0 for 30 days of data, valid 60 days. */
export function annaToBert(overrides: Partial<GrantDraft> = {}, id = 'grant-1', now = T0): Grant {
  return createGrant(
    {
      grantor: ANNA,
      recipient: { kind: 'member', id: BERT, label: 'Bert (neighbour)' },
      scope: { meteringPoints: [ANNA_HOME], quantities: ['import'], resolution: '1h', period: { fromMs: T0, toMs: T0 + 30 * DAY } },
      purpose: { code: 'peer-comparison', statement: 'Compare our heat pumps over March.' },
      validUntil: now + 60 * DAY,
      ...overrides,
    },
    { id, communityId: 'community-1', now, ownMeteringPoints: ANNA_POINTS },
  );
}
