import { ForbiddenError, UnauthorizedError } from '../kernel/errors.js';
import type { DeviceDirectory, AuthenticatedDevice } from '../ingest/index.js';
import { deviceResource, verifySasToken } from './sas.js';

/**
 * Checks a device's SAS token (MQTT password or HTTP Authorization header) against both of its
 * keys, its expiry and the device's status. Disabled, deleted or rolled-back devices have no
 * active record and are refused.
 */
export function deviceAuthenticator(directory: DeviceDirectory, hostName: string) {
  return async (deviceId: string, token: string | undefined): Promise<AuthenticatedDevice> => {
    if (!token) throw new UnauthorizedError('a device authenticates with "SharedAccessSignature sr=…&sig=…&se=…"');
    const device = await directory.get(deviceId);
    if (!device || device.keys.length === 0) throw new UnauthorizedError('unknown device or no credentials');
    if (device.status !== 'active') throw new UnauthorizedError('device is disabled');
    const verdict = verifySasToken(token, { expectedResource: deviceResource(hostName, deviceId), keys: device.keys });
    if (!verdict.ok) throw new UnauthorizedError(`token refused: ${verdict.reason}`);
    // Said only to the device itself (its token is valid), so that its owner learns why.
    if (device.communitySuspended) throw new ForbiddenError('the device\'s community is suspended');
    return { id: device.id, communityId: device.communityId, meteringPointId: device.meteringPointId, boundFrom: device.boundFrom };
  };
}
