import type { TestPlatform } from './platform.js';
import { deviceCredentials, type DeviceCredentials } from './devices.js';
import { unique } from './platform.js';

async function ok(tp: TestPlatform, method: string, url: string, token: string, body?: unknown) {
  const response = await tp.call(method, url, { token, body });
  if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** A new site of a member (registered by the member or a manager), as in "Add a site". */
export async function addSite(tp: TestPlatform, communityId: string, token: string, fields: Record<string, unknown> = {}): Promise<string> {
  return (await ok(tp, 'POST', `/api/v1/communities/${communityId}/metering-points`, token, {
    name: unique('Site '), gridConnectionId: unique('AT001SITE').replace(/[^A-Z0-9]/gi, '').toUpperCase(), role: 'consumer', ...fields,
  })).id;
}

/** A provisioned device bound by the manager to a site (in a role, where given), with its keys. */
export async function bindNewDevice(tp: TestPlatform, communityId: string, managerToken: string, meteringPointId: string,
  binding: Record<string, unknown> = {}, kind = 'meter-reader'): Promise<DeviceCredentials> {
  const batch = await ok(tp, 'POST', `/api/v1/communities/${communityId}/device-batches`, managerToken, { count: 1, kind });
  const deviceId = batch.deviceIds[0] as string;
  await ok(tp, 'PATCH', `/api/v1/devices/${deviceId}`, managerToken, { meteringPointId, ...binding });
  return deviceCredentials(tp, managerToken, deviceId);
}
