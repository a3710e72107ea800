/** Master keys and the rotation of sealed secrets (server/src/secrets). */
import { Type } from 'typebox';
import { errors } from './common.js';
import { route } from './route.js';

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

export const secretsRoutes = {
  secretsStatus: route('GET', '/api/v1/secrets', {
    tags: ['secrets'],
    summary: 'Master keys in use (ids only) and how many stored secrets each one sealed (platform admins)',
    response: { 200: Status, ...errors(401, 403) },
  }),
  rotateSecrets: route('POST', '/api/v1/secrets/rotate', {
    tags: ['secrets'],
    summary: 'Seal every stored secret again under a new master key, while the platform keeps running (platform admins; '
      + '`Accept: application/x-ndjson` streams progress). With keys from GRIDSHARE_SECRET_KEY, put the new key first there beforehand',
    response: { 200: Rotation, ...errors(401, 403, 409) },
  }),
};
