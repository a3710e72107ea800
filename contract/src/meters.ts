/** The keys of the meters behind readers, to decrypt their raw frames (server/src/meters). */
import { Type } from 'typebox';
import { DeviceParams, errors } from './common.js';
import { route } from './route.js';

const Key = Type.String({ pattern: '^[0-9A-Fa-f]{32}$', description: '16 bytes as 32 hex digits' });

export const meterRoutes = {
  putMeterKeys: route('PUT', '/api/v1/devices/:id/meter-keys', {
    tags: ['ingestion'],
    summary: 'Store the keys of the meter behind a reader, to decrypt its raw frames (managers; never returned)',
    params: DeviceParams,
    body: Type.Object({ encryptionKey: Key, authenticationKey: Type.Optional(Type.Union([Key, Type.Null()])) }, { additionalProperties: false }),
    response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
  }),
};
