import { Type } from 'typebox';
import type { Db } from '../platform/store/db.js';
import { errors, type Api } from '../platform/http/api.js';
import { DomainError } from '../kernel/errors.js';
import { requireAdmin } from '../accounts/index.js';
import type { Secrets } from './service.js';

const KeyId = Type.String({ pattern: '^[0-9a-f]{16}$', description: 'id of a master key (a hash of it, never the key)' });

const Status = Type.Object({
  activeKeyId: KeyId,
  keyIds: Type.Array(KeyId),
  source: Type.String({ description: 'where the master keys come from: the environment or a key file' }),
  tables: Type.Array(Type.Object({
    table: Type.String(),
    byKey: Type.Record(Type.String(), Type.Integer(), { description: 'values per master key id; "plain" counts values not sealed yet' }),
  })),
});

const Rotation = Type.Object({
  activeKeyId: KeyId,
  previousKeyIds: Type.Array(KeyId),
  resealed: Type.Record(Type.String(), Type.Integer(), { description: 'rows sealed again, per table' }),
  retiredKeyIds: Type.Array(KeyId, { description: 'keys no value needs any more (dropped from a key file; remove them from GRIDSHARE_SECRET_KEY)' }),
  unreadable: Type.Array(Type.String(), { description: 'values that did not open (altered or copied from another row), as table.column:row; left as they are: re-key those devices' }),
  source: Type.String(),
});

export async function secretsRoutes(app: Api, { db, secrets }: { db: Db; secrets: Secrets }): Promise<void> {
  app.get('/api/v1/secrets', {
    schema: {
      tags: ['secrets'],
      summary: 'Master keys in use (ids only) and how many stored secrets each one sealed (platform admins)',
      response: { 200: Status, ...errors(401, 403) },
    },
  }, async (request) => {
    requireAdmin(request.principal);
    return secrets.status(db);
  });

  app.post('/api/v1/secrets/rotate', {
    schema: {
      tags: ['secrets'],
      summary: 'Seal every stored secret again under a new master key, while the platform keeps running (platform admins; '
        + '`Accept: application/x-ndjson` streams progress). With keys from GRIDSHARE_SECRET_KEY, put the new key first there beforehand',
      response: { 200: Rotation, ...errors(401, 403, 409) },
    },
  }, async (request, reply) => {
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
