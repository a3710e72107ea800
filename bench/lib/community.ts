import type { Db } from '../../server/src/platform/store/db.js';
import { createApiToken, createUser } from '../../server/src/accounts/service.js';
import { createCommunity } from '../../server/src/registry/communities.js';
import type { UserPrincipal } from '../../server/src/kernel/principal.js';
import { ArtefactStore } from '../../server/src/provisioning/artefact-store.js';
import { ArtefactBuilder } from '../../server/src/provisioning/artefact-builder.js';
import type { Endpoints } from '../../server/src/provisioning/artefacts.js';
import type { ProvisioningContext } from '../../server/src/provisioning/service.js';
import { DEFAULT_QUOTAS, Quotas } from '../../server/src/quotas/service.js';
import type { SecretBox } from '../../server/src/secrets/index.js';
import { EventBus } from '../../server/src/platform/events/index.js';
import { subscribeAudit } from '../../server/src/audit/index.js';

/** A community with one manager, made through the same services the API uses. */
export async function benchCommunity(db: Db): Promise<{ communityId: string; manager: UserPrincipal; managerMemberId: string; apiToken: string }> {
  const user = await createUser(db, { email: `bench-${Date.now()}@example.org`, password: 'bench-password', displayName: 'Bench', emailVerified: true });
  const creator: UserPrincipal = { kind: 'user', userId: user.id, email: user.email, isAdmin: false, memberships: [] };
  const community = await createCommunity(db, creator, { name: 'Bench', timeZone: 'Europe/Vienna', currency: 'EUR' });
  const [member] = await db.query<{ id: string }>('SELECT id FROM members WHERE community_id = $1', [community.id]);
  const manager: UserPrincipal = { ...creator, memberships: [{ memberId: member!.id, communityId: community.id, role: 'manager', state: 'active' }] };
  const events = new EventBus();
  subscribeAudit(events);
  const { token } = await createApiToken(db, events, user.id, 'bench');
  return { communityId: community.id, manager, managerMemberId: member!.id, apiToken: token };
}

/** The provisioning service as the platform wires it, with room for as many devices as a benchmark asks. */
export function benchProvisioning(db: Db, artefactsDir: string, endpoints: Endpoints, secrets: SecretBox): ProvisioningContext {
  // A batch writes its audit entry in its transaction, as on the platform.
  const events = new EventBus();
  subscribeAudit(events);
  return {
    events,
    db, endpoints, store: new ArtefactStore(artefactsDir), deviceChanged: () => undefined,
    quotas: new Quotas({ ...DEFAULT_QUOTAS, devicesPerCommunity: 10_000_000 }), builder: new ArtefactBuilder(), secrets,
  };
}
