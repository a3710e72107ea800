import type { Db } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import type { UserPrincipal } from '../kernel/principal.js';
import { findUserByEmail } from '../accounts/index.js';
import { memberIdOfUser } from '../registry/index.js';
import { closeSettlement, runSettlement, settlementGaps } from '../billing/index.js';
import { DEMO_MANAGER_EMAIL } from './seed.js';

/** "2026-11" for the month before the one `nowMs` falls in (UTC; the demo's zone is a few hours off at most, never a month). */
function previousMonth(nowMs: number): string {
  const now = new Date(nowMs);
  const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return `${month.getUTCFullYear()}-${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

/**
 * Settles and closes the demo's previous month as its manager would, so its statements are
 * issued and the verifiable record logs them (members find "Verify" beside each statement). The
 * simulated history need not cover every quarter hour of it: the manager accepts what is missing,
 * as the closing guard asks.
 */
export async function settleDemoMonth(db: Db, events: EventPublisher, communityId: string, nowMs = Date.now()): Promise<void> {
  const manager = (await findUserByEmail(db, DEMO_MANAGER_EMAIL))!;
  const memberId = (await memberIdOfUser(db, communityId, manager.id))!;
  const principal: UserPrincipal = {
    kind: 'user', userId: manager.id, email: manager.email, isAdmin: false,
    memberships: [{ memberId, communityId, role: 'manager', state: 'active' }],
  };
  const draft = await runSettlement(db, principal, communityId, previousMonth(nowMs));
  const gaps = await settlementGaps(db, principal, draft.id);
  await closeSettlement(db, principal, draft.id, events, gaps.missingQuarterHours);
}
