import { Type } from 'typebox';
import type { Db } from '../store/db.js';
import { errors, IdParams, type Api } from '../http/api.js';
import { activeMembership, isManagerOf, requireUser } from '../accounts/policy.js';
import { NotFoundError } from '../errors.js';
import type { LiveHub, LiveEvent } from './hub.js';

const HEARTBEAT_MS = 15_000;

/**
 * Server-sent events: the browser's EventSource sends the session cookie, reconnects by itself
 * and needs no extra protocol. Managers see every metering point, members only their own.
 */
export async function liveRoutes(app: Api, { db, hub }: { db: Db; hub: LiveHub }): Promise<void> {
  app.get('/api/v1/communities/:id/live', {
    schema: {
      tags: ['live'],
      summary: 'Live readings as server-sent events (event "reading": {meteringPointId, deviceId, ts, values})',
      params: IdParams,
      produces: ['text/event-stream'],
      response: { 200: Type.String({ description: 'text/event-stream' }), ...errors(401, 404) },
    },
  }, async (request, reply) => {
    const user = requireUser(request.principal);
    const communityId = request.params.id;
    let meteringPointIds: Set<string> | undefined;
    if (!isManagerOf(user, communityId)) {
      const own = activeMembership(user, communityId);
      if (!own) throw new NotFoundError('community');
      const rows = await db.query<{ id: string }>('SELECT id FROM metering_points WHERE member_id = $1', [own.memberId]);
      meteringPointIds = new Set(rows.map((r) => r.id));
    }

    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write(`retry: 3000\n: connected\n\n`);
    const send = (event: LiveEvent) => raw.write(`event: reading\ndata: ${JSON.stringify(event)}\n\n`);
    const unsubscribe = hub.subscribe({ communityId, meteringPointIds, send });
    const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), HEARTBEAT_MS);
    request.raw.once('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
  });
}
