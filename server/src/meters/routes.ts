import type { Db } from '../platform/store/db.js';
import type { Api } from '../platform/http/api.js';
import { getDevice } from '../registry/index.js';
import { requireManager } from '../accounts/index.js';
import { meterRoutes as contract } from '@gridshare/contract/meters';
import type { SecretBox } from '../secrets/index.js';
import { putMeterKeys } from './store.js';
import type { EventPublisher } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';

export async function meterRoutes(app: Api, { db, events, secrets }: { db: Db; events: EventPublisher; secrets: SecretBox }): Promise<void> {
  app.put(contract.putMeterKeys.path, { schema: contract.putMeterKeys.schema }, async (request, reply) => {
    const device = await getDevice(db, request.principal, request.params.id);
    requireManager(request.principal, device.communityId, 'device');
    await events.transaction(db, async (tx, publish) => {
      await putMeterKeys(tx, secrets, device, { encryptionKey: request.body.encryptionKey, authenticationKey: request.body.authenticationKey ?? null });
      await recordChange(publish, {
        kind: 'key', communityId: device.communityId, resourceId: device.id, action: 'set-meter-keys', before: null,
        after: { replacedAt: new Date().toISOString(), withAuthentication: request.body.authenticationKey !== undefined },
      });
    });
    return reply.status(204).send(null);
  });
}
