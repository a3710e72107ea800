import type { Db } from '../platform/store/db.js';
import type { Api } from '../platform/http/api.js';
import { requireAdmin } from '../accounts/index.js';
import { DomainError } from '../kernel/errors.js';
import { secretsRoutes as contract } from '@gridshare/contract/secrets';
import type { Secrets } from './service.js';
import type { EventPublisher } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';

export async function secretsRoutes(app: Api, { db, events, secrets }: { db: Db; events: EventPublisher; secrets: Secrets }): Promise<void> {
  /** A rotation re-seals many tables outside one transaction; its entry follows once it has finished. */
  const rotate = async (onProgress?: (table: string, rows: number) => void) => {
    const rotation = await secrets.rotate(db, onProgress);
    await events.transaction(db, (_tx, publish) => recordChange(publish, {
      kind: 'key', communityId: null, resourceId: 'master-key', action: 'rotate-master-key',
      before: { activeKeyId: rotation.previousKeyIds[0] ?? null }, after: { activeKeyId: rotation.activeKeyId, resealed: rotation.resealed, retiredKeyIds: rotation.retiredKeyIds },
    }));
    return rotation;
  };

  app.get(contract.secretsStatus.path, { schema: contract.secretsStatus.schema }, async (request) => {
    requireAdmin(request.principal);
    return secrets.status(db);
  });

  app.post(contract.rotateSecrets.path, { schema: contract.rotateSecrets.schema }, async (request, reply) => {
    requireAdmin(request.principal);
    if (!request.headers.accept?.includes('application/x-ndjson')) return rotate();
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    const line = (value: unknown) => reply.raw.write(`${JSON.stringify(value)}\n`);
    try {
      line({ rotation: await rotate((table, rows) => line({ progress: { table, rows } })) });
    } catch (error) {
      line({ error: error instanceof DomainError ? error.code : 'internal', message: error instanceof DomainError ? error.message : 'internal server error' });
    }
    reply.raw.end();
  });
}
