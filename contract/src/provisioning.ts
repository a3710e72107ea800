/** Batches of devices with keys and artefacts, key rotation and claiming (server/src/provisioning). */
import { Type, type Static } from 'typebox';
import { defaulted, DeviceId, DeviceParams, errors, IdParams, IsoDateTime, Uuid } from './common.js';
import { Device, DEVICE_KINDS, DeviceRole } from './registry.js';
import { route } from './route.js';

/** The most devices one batch provisions. */
export const MAX_BATCH = 10_000;
/** The longest batch name, in characters (Unicode code points). */
export const BATCH_NAME_MAX = 80;
/** The languages a sticker sheet is printed in. */
export const STICKER_LANGUAGES = ['en', 'de'] as const;

const Kind = Type.Enum([...DEVICE_KINDS]);
const batchName = (more = '') => Type.String({
  minLength: 1,
  maxLength: BATCH_NAME_MAX,
  description: `1 to ${BATCH_NAME_MAX} characters, spaces at either end removed; no control characters, line breaks or bidi controls${more}`,
});

export const Batch = Type.Object({
  id: Uuid,
  communityId: Uuid,
  name: Type.String(),
  kind: Type.String(),
  size: Type.Integer(),
  status: Type.Enum(['active', 'rolled-back']),
  createdAt: IsoDateTime,
  rolledBackAt: Type.Union([IsoDateTime, Type.Null()]),
  deviceIds: Type.Optional(Type.Array(Type.String())),
});

export const Rollback = Type.Object({
  batchId: Uuid,
  removed: Type.Array(Type.String()),
  kept: Type.Array(Type.Object({ deviceId: Type.String(), reason: Type.Enum(['claimed', 'has-readings']) })),
  status: Type.Enum(['active', 'rolled-back']),
});

export const RotatedKey = Type.Object({ deviceId: Type.String(), slot: Type.String(), connectionString: Type.String() });

export type Batch = Static<typeof Batch>;
export type Rollback = Static<typeof Rollback>;
export type RotatedKey = Static<typeof RotatedKey>;

/** The QR sticker of a provisioned device comes as these files. */
export const QR_STICKER_TYPES = { 'qr.png': 'image/png', 'qr.svg': 'image/svg+xml' } as const;
const qrSticker = <const F extends keyof typeof QR_STICKER_TYPES>(file: F) => route('GET', `/api/v1/devices/:id/${file}`, {
  tags: ['provisioning'], summary: `QR sticker of a device (${QR_STICKER_TYPES[file]}) with its claim URL (managers)`, params: DeviceParams, response: { ...errors(401, 403, 404) },
});

export const provisioningRoutes = {
  provisionBatch: route('POST', '/api/v1/communities/:id/device-batches', {
    tags: ['provisioning'],
    summary: 'Provision a batch of devices with keys, connection strings, config files and QR codes (managers; within the quotas devicesPerCommunity and batchesPerHour)',
    params: IdParams,
    body: Type.Object({
      count: defaulted(Type.Integer({ minimum: 1, maximum: MAX_BATCH, default: 2 })),
      kind: Type.Optional(Kind),
      name: Type.Optional(batchName('; without one, "Batch n" in the community\'s language, n counting its batches')),
    }, { additionalProperties: false }),
    response: { 201: Batch, ...errors(400, 401, 403, 404, 429) },
  }),
  listBatches: route('GET', '/api/v1/communities/:id/device-batches', {
    tags: ['provisioning'], summary: 'Batches of a community (managers)', params: IdParams, response: { 200: Type.Array(Batch), ...errors(401, 403, 404) },
  }),
  getBatch: route('GET', '/api/v1/device-batches/:id', {
    tags: ['provisioning'], summary: 'One batch with its device ids (managers)', params: IdParams, response: { 200: Batch, ...errors(401, 403, 404) },
  }),
  renameBatch: route('PATCH', '/api/v1/device-batches/:id', {
    tags: ['provisioning'], summary: 'Rename a batch (managers)', params: IdParams,
    body: Type.Object({ name: batchName() }, { additionalProperties: false }),
    response: { 200: Batch, ...errors(400, 401, 403, 404) },
  }),
  rollbackBatch: route('POST', '/api/v1/device-batches/:id/rollback', {
    tags: ['provisioning'],
    summary: 'Remove a batch: devices, keys, claim codes, artefacts. Claimed devices and devices with readings stay unless force',
    params: IdParams,
    body: Type.Object({ force: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
    response: { 200: Rollback, ...errors(400, 401, 403, 404, 409) },
  }),
  batchArtefacts: route('GET', '/api/v1/device-batches/:id/artefacts.zip', {
    tags: ['provisioning'], summary: 'ZIP of every config file, QR image and the CSV manifest of a batch (managers)', params: IdParams, response: { ...errors(401, 403, 404) },
  }),
  batchStickers: route('GET', '/api/v1/device-batches/:id/stickers.pdf', {
    tags: ['provisioning'],
    summary: 'A4 sheet of 70 × 37 mm stickers (3 × 8 a page), one per device still in the batch: QR code of the claim URL, claim code, device id; in lang, else the community\'s language (managers; 404 once the batch is rolled back)',
    params: IdParams,
    querystring: Type.Object({ lang: Type.Optional(Type.Enum([...STICKER_LANGUAGES])) }, { additionalProperties: false }),
    produces: ['application/pdf'],
    response: { ...errors(400, 401, 403, 404) },
  }),
  deviceConfiguration: route('GET', '/api/v1/devices/:id/config.json', {
    tags: ['provisioning'], summary: 'Configuration file of a device with its current keys (managers)', params: DeviceParams, response: { ...errors(401, 403, 404, 409) },
  }),
  deviceQrPng: qrSticker('qr.png'),
  deviceQrSvg: qrSticker('qr.svg'),
  rotateKey: route('POST', '/api/v1/devices/:id/keys/:slot/rotate', {
    tags: ['provisioning'],
    summary: 'Replace the primary or secondary key; the other keeps working (managers)',
    params: Type.Object({ id: DeviceId, slot: Type.Enum(['primary', 'secondary']) }),
    response: { 200: RotatedKey, ...errors(401, 403, 404) },
  }),
  claimDevice: route('POST', '/api/v1/claims', {
    tags: ['provisioning'],
    summary: 'Claim a device with the code from its QR sticker and bind it to your metering point in a role (a second billing meter on a site is a 409)',
    body: Type.Object({ code: Type.String({ maxLength: 40 }), meteringPointId: Uuid, role: Type.Optional(DeviceRole) }, { additionalProperties: false }),
    response: { 200: Device, ...errors(400, 401, 404, 409) },
  }),
};
