import type { Db } from '../platform/store/db.js';
import type { Api } from '../platform/http/api.js';
import { requireAdmin } from '../accounts/index.js';
import { opsRoutes as contract } from '@gridshare/contract/ops';
import type { Metrics } from './metrics.js';

export interface BrokerStatus {
  readonly mode: 'embedded' | 'external';
  connected(): boolean;
}

export async function opsRoutes(app: Api, options: { db: Db; broker: BrokerStatus; metrics: Metrics }): Promise<void> {
  const { db, broker, metrics } = options;

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  app.get(contract.health.path, { schema: contract.health.schema }, async (_request, reply) => {
    const dbOk = await db.ping().catch(() => false);
    const brokerOk = broker.connected();
    const body = {
      status: dbOk && brokerOk ? ('ok' as const) : ('degraded' as const),
      database: { status: dbOk ? ('ok' as const) : ('down' as const), kind: db.kind },
      broker: { status: brokerOk ? ('ok' as const) : ('down' as const), mode: broker.mode },
    };
    return reply.status(dbOk && brokerOk ? 200 : 503).send(body);
  });

  app.get(contract.metrics.path, { schema: contract.metrics.schema }, async (request, reply) => {
    requireAdmin(request.principal);
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
