import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, storeKinds } from '../support/stores.js';
import type { Db } from '../../src/platform/store/db.js';
import type { UserPrincipal } from '../../src/kernel/principal.js';
import { monthRange } from '../../src/kernel/calendar.js';
import { runSettlement } from '../../src/billing/settlements.js';
import { addPoint, Q, runSharing, storeCommunity, storeIntervals, type StoredCommunity } from '../sharing/support/stored.js';
import { memberQuarters } from '../../src/sharing/index.js';

const admin: UserPrincipal = { kind: 'user', userId: '00000000-0000-4000-8000-000000000001', email: 'admin@example.org', isAdmin: true, memberships: [] };

function lastOctober(): string {
  const now = new Date();
  return `${now.getUTCMonth() >= 10 ? now.getUTCFullYear() : now.getUTCFullYear() - 1}-10`;
}

/**
 * Rough edge 3 of issue 21 in billing: the manager who only runs the community is no member to
 * bill, and the community battery (held by the manager) is the community's, not a producer's.
 */
describe.each(storeKinds)('who gets a statement, on %s', (kind) => {
  let db: Db;
  let close: () => Promise<void>;
  let c: StoredCommunity;
  let managerId: string;
  const period = lastOctober();
  const range = monthRange(period, 'Europe/Vienna')!;

  beforeAll(async () => {
    ({ db, close } = await openTestDb(kind));
    c = await storeCommunity(db, ['library', 'anna']);
    await db.query(
      `INSERT INTO tariffs (community_id, name, grid_price, community_price, feed_in_price, grid_fee_reduction, valid_from)
       VALUES ($1, 'Standard', 0.30, 0.15, 0.07, 0.02, '2020-01-01')`, [c.id],
    );
    const user = await db.query<{ id: string }>(`INSERT INTO users (email, display_name, password_hash) VALUES ($1, 'Manager', 'x') RETURNING id`, [`manager-${c.id}@example.org`]);
    // Active from the beginning: the manager takes part in the sharing of the month, holding the battery.
    managerId = (await db.query<{ id: string }>(
      `INSERT INTO members (community_id, user_id, role, state, display_name, decided_at) VALUES ($1, $2, 'manager', 'active', 'Manager', now()) RETURNING id`, [c.id, user[0]!.id],
    ))[0]!.id;
    const battery = await addPoint(db, c.id, managerId, 'Community battery', true);
    // A day: the library exports 400 Wh a quarter hour, Anna imports 250; the battery charges 100 in the morning and gives 100 back in the evening.
    const day = (f: (t: number) => { importWh: number; exportWh: number }) => Object.fromEntries(Array.from({ length: 96 }, (_, t) => [range.startMs + t * Q, f(t)]));
    await storeIntervals(db, c.id, c.members.library!.pointId, day(() => ({ importWh: 0, exportWh: 400 })));
    await storeIntervals(db, c.id, c.members.anna!.pointId, day(() => ({ importWh: 250, exportWh: 0 })));
    await storeIntervals(db, c.id, battery, day((t) => (t < 48 ? { importWh: 100, exportWh: 0 } : { importWh: 0, exportWh: 100 })));
    await runSharing(db);
  }, 180_000);
  afterAll(() => close?.());

  it('issues statements to the members only: none to the manager for the community battery they hold', async () => {
    const energy = await memberQuarters(db, managerId, range.startMs, range.endMs);
    // The battery's flows are the community's, on a row of their own: none is its holder's.
    expect(energy.filter((q) => q.consumptionWh > 0 || q.productionWh > 0)).toEqual([]);
    const settlement = await runSettlement(db, admin, c.id, period);
    expect(settlement.statements.map((s) => s.memberId).sort()).toEqual([c.members.library!.memberId, c.members.anna!.memberId].sort());
  });

  it('bills a manager who has a home of their own in the community like any member', async () => {
    const home = await addPoint(db, c.id, managerId, 'Manager home');
    await storeIntervals(db, c.id, home, Object.fromEntries(Array.from({ length: 4 }, (_, t) => [range.startMs + t * Q, { importWh: 50, exportWh: 0 }])));
    await runSharing(db);
    const settlement = await runSettlement(db, admin, c.id, period);
    expect(settlement.statements.map((s) => s.memberId)).toContain(managerId);
    // The statement bills the home's 4 × 50 Wh, not the battery's 48 × 100 Wh of charging.
    const manager = (await memberQuarters(db, managerId, range.startMs, range.endMs)).reduce((sum, q) => sum + q.consumptionWh, 0);
    expect(manager).toBe(200);
  }, 60_000);
});
