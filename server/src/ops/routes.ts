import type { Db } from '../platform/store/db.js';
import type { Api } from '../platform/http/api.js';
import { PasswordChangeRequired, requestCredentials } from '../platform/http/app.js';
import type { ComponentLog } from '../platform/http/logging.js';
import type { Credentials, ResolvedPrincipal } from '../kernel/principal.js';
import { requireAdmin } from '../accounts/index.js';
import { opsRoutes as contract } from '@gridshare/contract/ops';
import { databaseAnswers, type Metrics } from './metrics.js';
import { ScrapeAccess } from './scrape-access.js';

export interface BrokerStatus {
  readonly mode: 'embedded' | 'external';
  connected(): boolean;
}

export async function opsRoutes(app: Api, options: {
  db: Db; broker: BrokerStatus; metrics: Metrics;
  /** The caller of `/metrics`, which resolves its own (see ScrapeAccess). */
  resolvePrincipal(credentials: Credentials): Promise<ResolvedPrincipal>;
  /** Where a scrape that left metrics out says which. */
  log: ComponentLog;
}): Promise<void> {
  const { db, broker, metrics, log } = options;
  const access = new ScrapeAccess({ resolvePrincipal: options.resolvePrincipal, databaseAnswers: () => databaseAnswers(db) });

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

  app.get(contract.metrics.path, {
    schema: contract.metrics.schema,
    onRequest: async (request) => {
      const principal = await access.principal(requestCredentials(request));
      if ('mustChangePassword' in principal && principal.mustChangePassword) throw new PasswordChangeRequired();
      request.principal = principal;
    },
  }, async (request, reply) => {
    requireAdmin(request.principal);
    const { text, skipped } = await metrics.scrape();
    if (skipped.length > 0) log(`metrics left out of this scrape (the database is down, or their collector failed): ${skipped.join(', ')}`);
    return reply.type(metrics.registry.contentType).send(text);
  });
}
