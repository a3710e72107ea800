import type { Db } from '../platform/store/db.js';
import type { Api } from '../platform/http/api.js';
import { requestCredentials } from '../platform/http/app.js';
import { activeMembership, isManagerOf } from '../accounts/index.js';
import { meteringPointIdsOfMember } from '../registry/index.js';
import type { Credentials, Principal, ResolvedPrincipal } from '../kernel/principal.js';
import { NotFoundError, UnauthorizedError } from '../kernel/errors.js';
import { liveRoutes as contract } from '@gridshare/contract/live';
import type { LiveHub, LiveEvent, LiveSubscriber } from './hub.js';

const HEARTBEAT_MS = 15_000;

export interface LiveRouteOptions {
  db: Db;
  hub: LiveHub;
  /** Who presents these credentials now (the composition root's resolver, as for every request). */
  resolvePrincipal: (credentials: Credentials) => Promise<ResolvedPrincipal>;
  /** How often an open stream checks again who is watching (logout, leaving, new metering points). */
  recheckMs?: number;
}

/**
 * What a caller may watch in a community: every metering point (managers, admins: undefined) or
 * their own. Throws as the API does for a caller who may not watch at all.
 */
async function watchableMeteringPoints(db: Db, principal: Principal, communityId: string): Promise<ReadonlySet<string> | undefined> {
  if (principal.kind !== 'user') throw new UnauthorizedError();
  if (isManagerOf(principal, communityId)) return undefined;
  const own = activeMembership(principal, communityId);
  if (!own) throw new NotFoundError('community');
  return new Set(await meteringPointIdsOfMember(db, own.memberId));
}

/**
 * Server-sent events: the browser's EventSource sends the session cookie, reconnects by itself
 * and needs no extra protocol. Managers see every metering point, members only their own. A
 * stream outlives the request that opened it, so it checks its caller again at every recheck:
 * a member who left, a revoked session or token ends it; a new metering point joins it.
 */
export async function liveRoutes(app: Api, { db, hub, resolvePrincipal, recheckMs = HEARTBEAT_MS }: LiveRouteOptions): Promise<void> {
  app.get(contract.liveReadings.path, { schema: contract.liveReadings.schema }, async (request, reply) => {
    const communityId = request.params.id;
    const credentials = requestCredentials(request);
    const subscriber: LiveSubscriber = {
      communityId,
      meteringPointIds: await watchableMeteringPoints(db, request.principal, communityId),
      send: (event: LiveEvent) => raw.write(`event: reading\ndata: ${JSON.stringify(event)}\n\n`),
    };

    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write(`retry: 3000\n: connected\n\n`);
    const unsubscribe = hub.subscribe(subscriber);
    const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), HEARTBEAT_MS);
    const recheck = setInterval(() => {
      resolvePrincipal(credentials)
        .then((principal) => watchableMeteringPoints(db, principal, communityId))
        .then((scope) => { subscriber.meteringPointIds = scope; }, () => raw.end());
    }, recheckMs);
    raw.once('close', () => {
      clearInterval(heartbeat);
      clearInterval(recheck);
      unsubscribe();
    });
  });
}
