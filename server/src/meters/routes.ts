import { Type } from 'typebox';
import type { Db } from '../platform/store/db.js';
import { errors, type Api } from '../platform/http/api.js';
import { getDevice } from '../registry/index.js';
import { requireManager } from '../accounts/index.js';
import type { SecretBox } from '../secrets/index.js';
import { putMeterKeys } from './store.js';

const Key = Type.String({ pattern: '^[0-9A-Fa-f]{32}$', description: '16 bytes as 32 hex digits' });

export async function meterRoutes(app: Api, { db, secrets }: { db: Db; secrets: SecretBox }): Promise<void> {
  app.put('/api/v1/devices/:id/meter-keys', {
    schema: {
      tags: ['ingestion'],
      summary: 'Store the keys of the meter behind a reader, to decrypt its raw frames (managers; never returned)',
      params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }) }),
      body: Type.Object({ encryptionKey: Key, authenticationKey: Type.Optional(Type.Union([Key, Type.Null()])) }, { additionalProperties: false }),
      response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
    },
  }, async (request, reply) => {
    const device = await getDevice(db, request.principal, request.params.id);
    requireManager(request.principal, device.communityId, 'device');
    await putMeterKeys(db, secrets, device, { encryptionKey: request.body.encryptionKey, authenticationKey: request.body.authenticationKey ?? null });
    return reply.status(204).send(null);
  });
}
