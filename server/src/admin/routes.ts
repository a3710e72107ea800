import type { Db } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import type { Api } from '../platform/http/api.js';
import type { JobRunner } from '../platform/jobs/index.js';
import { adminRoutes as contract } from '@gridshare/contract/admin';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { findUserByEmail, lockAccount, requireAdmin, searchAccounts, setPlatformAdmin, unlockAccount } from '../accounts/index.js';
import { communityDevices, createCommunityManagedBy, overseeCommunities, setCommunitySuspension } from '../registry/index.js';
import type { InstallationView } from './installation.js';

export interface AdminRouteOptions {
  db: Db;
  events: EventPublisher;
  jobs: JobRunner;
  installation: InstallationView;
  /** A device whose community was suspended or resumed must authenticate again (it is disconnected). */
  deviceChanged: (deviceId: string) => void;
}

/** The platform admins' console: every route refuses anyone else (401/403). */
export async function adminRoutes(app: Api, { db, events, jobs, installation, deviceChanged }: AdminRouteOptions): Promise<void> {
  app.get(contract.adminCommunities.path, { schema: contract.adminCommunities.schema }, async (request) =>
    overseeCommunities(db, request.principal, request.query.q ?? ''));

  app.post(contract.adminCreateCommunity.path, { schema: contract.adminCreateCommunity.schema }, async (request, reply) => {
    requireAdmin(request.principal);
    const { managerEmail, ...input } = request.body;
    const manager = await findUserByEmail(db, managerEmail);
    if (!manager) throw new BadRequestError('body/managerEmail: no account has this email', 'body/managerEmail');
    return reply.status(201).send(await createCommunityManagedBy(db, events, request.principal, input, manager.id));
  });

  const suspension = async (principal: Parameters<typeof requireAdmin>[0], communityId: string, reason: string | null) => {
    await setCommunitySuspension(db, events, principal, communityId, reason);
    for (const device of await communityDevices(db, communityId)) deviceChanged(device.id);
  };

  app.post(contract.suspendCommunity.path, { schema: contract.suspendCommunity.schema }, async (request, reply) => {
    const reason = request.body.reason.trim();
    if (!reason) throw new BadRequestError('body/reason: say why the community is suspended', 'body/reason');
    await suspension(request.principal, request.params.id, reason);
    return reply.status(204).send(null);
  });

  app.post(contract.resumeCommunity.path, { schema: contract.resumeCommunity.schema }, async (request, reply) => {
    await suspension(request.principal, request.params.id, null);
    return reply.status(204).send(null);
  });

  app.get(contract.adminUsers.path, { schema: contract.adminUsers.schema }, async (request) => {
    requireAdmin(request.principal);
    return searchAccounts(db, request.query.q ?? '', request.query.limit);
  });

  app.post(contract.lockUser.path, { schema: contract.lockUser.schema }, async (request, reply) => {
    await lockAccount(db, events, requireAdmin(request.principal).userId, request.params.id);
    return reply.status(204).send(null);
  });

  app.post(contract.unlockUser.path, { schema: contract.unlockUser.schema }, async (request, reply) => {
    requireAdmin(request.principal);
    await unlockAccount(db, events, request.params.id);
    return reply.status(204).send(null);
  });

  app.put(contract.setPlatformAdmin.path, { schema: contract.setPlatformAdmin.schema }, async (request, reply) => {
    await setPlatformAdmin(db, events, requireAdmin(request.principal).userId, request.params.id, request.body.isAdmin);
    return reply.status(204).send(null);
  });

  app.get(contract.installation.path, { schema: contract.installation.schema }, async (request) =>
    installation.read(requireAdmin(request.principal)));

  const job = (name: string) => {
    if (!jobs.has(name)) throw new NotFoundError('job');
    return name;
  };

  /** Pausing is this process's runner state, not a row: its entry is written once the runner has changed. */
  const pausing = async (name: string, paused: boolean) => {
    const before = await pausedOf(name);
    if (paused) await jobs.pause(name);
    else jobs.resume(name);
    const after = await pausedOf(name);
    await events.transaction(db, (_tx, publish) => recordChange(publish, {
      kind: 'job', communityId: null, resourceId: name, action: paused ? 'pause' : 'resume', before: { paused: before }, after: { paused: after },
    }));
  };
  const pausedOf = async (name: string) => (await jobs.status()).find((status) => status.name === name)?.paused ?? false;

  app.post(contract.pauseJob.path, { schema: contract.pauseJob.schema }, async (request, reply) => {
    requireAdmin(request.principal);
    await pausing(job(request.params.name), true);
    return reply.status(204).send(null);
  });

  app.post(contract.resumeJob.path, { schema: contract.resumeJob.schema }, async (request, reply) => {
    requireAdmin(request.principal);
    await pausing(job(request.params.name), false);
    return reply.status(204).send(null);
  });
}
