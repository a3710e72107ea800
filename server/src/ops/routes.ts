import { Type } from 'typebox';
import type { Db } from '../platform/store/db.js';
import { errors, type Api } from '../platform/http/api.js';
import { requireAdmin } from '../accounts/index.js';
import type { Metrics } from './metrics.js';

export interface BrokerStatus {
  readonly mode: 'embedded' | 'external';
  connected(): boolean;
}

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  database: Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('down')]), kind: Type.String() }),
  broker: Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('down')]), mode: Type.String() }),
});

export async function opsRoutes(app: Api, options: { db: Db; broker: BrokerStatus; metrics: Metrics }): Promise<void> {
  const { db, broker, metrics } = options;

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  app.get('/health', {
    schema: {
      tags: ['operations'],
      summary: 'Liveness of the database and the MQTT broker (503 when either is down)',
      security: [],
      response: { 200: Health, 503: Health },
    },
  }, async (_request, reply) => {
    const dbOk = await db.ping().catch(() => false);
    const brokerOk = broker.connected();
    const body = {
      status: dbOk && brokerOk ? ('ok' as const) : ('degraded' as const),
      database: { status: dbOk ? ('ok' as const) : ('down' as const), kind: db.kind },
      broker: { status: brokerOk ? ('ok' as const) : ('down' as const), mode: broker.mode },
    };
    return reply.status(dbOk && brokerOk ? 200 : 503).send(body);
  });

  app.get('/metrics', {
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics (platform admins; scrape with an admin API token)',
      produces: ['text/plain'],
      response: { 200: Type.String(), ...errors(401, 403) },
    },
  }, async (request, reply) => {
    requireAdmin(request.principal);
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
