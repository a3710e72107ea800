import type { Db } from '../platform/store/db.js';
import type { Api } from '../platform/http/api.js';
import { getDevice } from '../registry/index.js';
import { requireManager } from '../accounts/index.js';
import { meterRoutes as contract } from '@gridshare/contract/meters';
import type { SecretBox } from '../secrets/index.js';
import { putMeterKeys } from './store.js';

export async function meterRoutes(app: Api, { db, secrets }: { db: Db; secrets: SecretBox }): Promise<void> {
  app.put(contract.putMeterKeys.path, { schema: contract.putMeterKeys.schema }, async (request, reply) => {
    const device = await getDevice(db, request.principal, request.params.id);
    requireManager(request.principal, device.communityId, 'device');
    await putMeterKeys(db, secrets, device, { encryptionKey: request.body.encryptionKey, authenticationKey: request.body.authenticationKey ?? null });
    return reply.status(204).send(null);
  });
}
