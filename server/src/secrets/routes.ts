import type { Db } from '../platform/store/db.js';
import type { Api } from '../platform/http/api.js';
import { requireAdmin } from '../accounts/index.js';
import { DomainError } from '../kernel/errors.js';
import { secretsRoutes as contract } from '@gridshare/contract/secrets';
import type { Secrets } from './service.js';

export async function secretsRoutes(app: Api, { db, secrets }: { db: Db; secrets: Secrets }): Promise<void> {
  app.get(contract.secretsStatus.path, { schema: contract.secretsStatus.schema }, async (request) => {
    requireAdmin(request.principal);
    return secrets.status(db);
  });

  app.post(contract.rotateSecrets.path, { schema: contract.rotateSecrets.schema }, async (request, reply) => {
    requireAdmin(request.principal);
    if (!request.headers.accept?.includes('application/x-ndjson')) return secrets.rotate(db);
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    const line = (value: unknown) => reply.raw.write(`${JSON.stringify(value)}\n`);
    try {
      line({ rotation: await secrets.rotate(db, (table, rows) => line({ progress: { table, rows } })) });
    } catch (error) {
      line({ error: error instanceof DomainError ? error.code : 'internal', message: error instanceof DomainError ? error.message : 'internal server error' });
    }
    reply.raw.end();
  });
}
