import { randomUUID } from 'node:crypto';
import type { Queryable } from '../platform/store/db.js';
import { DAY_MS } from '../kernel/time.js';
import { createAccessLogEntry, createGrant, grantDigest, type Recipient } from './domain/index.js';
import * as store from './store.js';

/**
 * The demo's privacy: the demo member has shared a month of daily import with a neighbour, and
 * the manager has read the member's quarter hours once for the settlement — so the member's
 * privacy page shows a consent to revoke and an entry in "who read my data".
 */
export async function seedDemoPrivacy(tx: Queryable, demo: {
  communityId: string; grantor: string; meteringPoint: string; recipient: Recipient; manager: { userId: string; name: string }; now: number;
}): Promise<void> {
  const dayStart = demo.now - (demo.now % DAY_MS);
  const grant = createGrant({
    grantor: demo.grantor, recipient: demo.recipient,
    scope: { meteringPoints: [demo.meteringPoint], quantities: ['import'], resolution: '1d', period: { fromMs: dayStart - 30 * DAY_MS, toMs: null } },
    purpose: { code: 'peer-comparison', statement: 'Compare our daily use over the winter.' },
    validUntil: dayStart + 180 * DAY_MS,
  }, { id: randomUUID(), communityId: demo.communityId, now: demo.now, ownMeteringPoints: new Set([demo.meteringPoint]) });
  await store.insertGrant(tx, grant, grantDigest(grant));
  await store.insertAccess(tx, createAccessLogEntry({
    at: demo.now, communityId: demo.communityId, subject: demo.grantor,
    accessor: { kind: 'manager', userId: demo.manager.userId, name: demo.manager.name },
    data: { category: 'intervals', meteringPoints: [demo.meteringPoint], period: { fromMs: dayStart - DAY_MS, toMs: dayStart }, resolution: '15m' },
    purpose: 'settlement',
  }), 'GET /api/v1/metering-points/:id/intervals');
}
