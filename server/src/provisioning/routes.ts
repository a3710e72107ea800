import { Type } from 'typebox';
import { errors, IdParams, IsoDateTime, Uuid, type Api } from '../platform/http/api.js';
import { DEVICE_KINDS } from '../registry/index.js';
import { Device, DeviceRoleSchema as DeviceRole } from '../registry/index.js';
import { DomainError, NotFoundError } from '../kernel/errors.js';
import { batchOfDevice, getDevice } from '../registry/index.js';
import { requireManager } from '../accounts/index.js';
import { fileFromZip } from './artefacts.js';
import * as provisioning from './service.js';

const DeviceParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }) });
const Kind = Type.Enum([...DEVICE_KINDS]);

const Batch = Type.Object({
  id: Uuid,
  communityId: Uuid,
  kind: Type.String(),
  size: Type.Integer(),
  status: Type.Enum(['active', 'rolled-back']),
  createdAt: IsoDateTime,
  rolledBackAt: Type.Union([IsoDateTime, Type.Null()]),
  deviceIds: Type.Optional(Type.Array(Type.String())),
});

const Rollback = Type.Object({
  batchId: Uuid,
  removed: Type.Array(Type.String()),
  kept: Type.Array(Type.Object({ deviceId: Type.String(), reason: Type.Enum(['claimed', 'has-readings']) })),
  status: Type.Enum(['active', 'rolled-back']),
});

export async function provisioningRoutes(app: Api, ctx: provisioning.ProvisioningContext): Promise<void> {
  app.post('/api/v1/communities/:id/device-batches', {
    schema: {
      tags: ['provisioning'],
      summary: 'Provision a batch of devices with keys, connection strings, config files and QR codes (managers; within the quotas devicesPerCommunity and batchesPerHour)',
      params: IdParams,
      body: Type.Object({
        count: Type.Integer({ minimum: 1, maximum: provisioning.MAX_BATCH, default: 2 }),
        kind: Type.Optional(Kind),
      }, { additionalProperties: false }),
      response: { 201: Batch, ...errors(400, 401, 403, 404, 429) },
    },
  }, async (request, reply) => {
    const input = { count: request.body.count, kind: request.body.kind ?? 'meter-reader' } as const;
    if (!request.headers.accept?.includes('application/x-ndjson')) {
      return reply.status(201).send(await provisioning.provisionBatch(ctx, request.principal, request.params.id, input));
    }
    // Progress for command-line clients: one JSON line per step, the batch (or the error) last.
    // A refusal known before the work starts is an HTTP error, not a line after a 201.
    await provisioning.assertBatchAllowed(ctx, request.principal, request.params.id, input.count);
    reply.hijack();
    reply.raw.writeHead(201, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    const line = (value: unknown) => reply.raw.write(`${JSON.stringify(value)}\n`);
    try {
      const batch = await provisioning.provisionBatch(ctx, request.principal, request.params.id, input,
        (done, total, phase) => line({ progress: { phase, done, total } }));
      line({ batch });
    } catch (error) {
      line({ error: error instanceof DomainError ? error.code : 'internal', message: error instanceof DomainError ? error.message : 'internal server error' });
    }
    reply.raw.end();
  });

  app.get('/api/v1/communities/:id/device-batches', {
    schema: { tags: ['provisioning'], summary: 'Batches of a community (managers)', params: IdParams, response: { 200: Type.Array(Batch), ...errors(401, 403, 404) } },
  }, async (request) => provisioning.listBatches(ctx.db, request.principal, request.params.id));

  app.get('/api/v1/device-batches/:id', {
    schema: { tags: ['provisioning'], summary: 'One batch with its device ids (managers)', params: IdParams, response: { 200: Batch, ...errors(401, 403, 404) } },
  }, async (request) => provisioning.getBatch(ctx.db, request.principal, request.params.id));

  app.post('/api/v1/device-batches/:id/rollback', {
    schema: {
      tags: ['provisioning'],
      summary: 'Remove a batch: devices, keys, claim codes, artefacts. Claimed devices and devices with readings stay unless force',
      params: IdParams,
      body: Type.Object({ force: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      response: { 200: Rollback, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (request) => provisioning.rollbackBatch(ctx, request.principal, request.params.id, request.body.force ?? false));

  app.get('/api/v1/device-batches/:id/artefacts.zip', {
    schema: { tags: ['provisioning'], summary: 'ZIP of every config file, QR image and the CSV manifest of a batch (managers)', params: IdParams, response: { ...errors(401, 403, 404) } },
  }, async (request, reply) => {
    const batch = await provisioning.getBatch(ctx.db, request.principal, request.params.id);
    const zip = await ctx.store.load(batch.id);
    if (!zip) throw new NotFoundError('artefacts of this batch');
    return reply
      .type('application/zip')
      .header('content-disposition', `attachment; filename="gridshare-batch-${batch.id}.zip"`)
      .send(zip);
  });

  app.get('/api/v1/devices/:id/config.json', {
    schema: { tags: ['provisioning'], summary: 'Configuration file of a device with its current keys (managers)', params: DeviceParams, response: { ...errors(401, 403, 404, 409) } },
  }, async (request) => provisioning.deviceConfiguration(ctx, request.principal, request.params.id));

  for (const [file, type] of [['qr.png', 'image/png'], ['qr.svg', 'image/svg+xml']] as const) {
    app.get(`/api/v1/devices/:id/${file}`, {
      schema: { tags: ['provisioning'], summary: `QR sticker of a device (${type}) with its claim URL (managers)`, params: DeviceParams, response: { ...errors(401, 403, 404) } },
    }, async (request, reply) => {
      const device = await getDevice(ctx.db, request.principal, request.params.id);
      requireManager(request.principal, device.communityId, 'device');
      const batchId = await batchOfDevice(ctx.db, device.id);
      const zip = batchId ? await ctx.store.load(batchId) : undefined;
      const content = zip && fileFromZip(zip, `devices/${device.id}/${file}`);
      if (!content) throw new NotFoundError('QR code (only provisioned devices have one)');
      return reply.type(type).send(Buffer.from(content));
    });
  }

  app.post('/api/v1/devices/:id/keys/:slot/rotate', {
    schema: {
      tags: ['provisioning'],
      summary: 'Replace the primary or secondary key; the other keeps working (managers)',
      params: Type.Object({ id: DeviceParams.properties.id, slot: Type.Enum(['primary', 'secondary']) }),
      response: { 200: Type.Object({ deviceId: Type.String(), slot: Type.String(), connectionString: Type.String() }), ...errors(401, 403, 404) },
    },
  }, async (request) => provisioning.rotateKey(ctx, request.principal, request.params.id, request.params.slot));

  app.post('/api/v1/claims', {
    schema: {
      tags: ['provisioning'],
      summary: 'Claim a device with the code from its QR sticker and bind it to your metering point in a role (a second billing meter on a site is a 409)',
      body: Type.Object({ code: Type.String({ maxLength: 40 }), meteringPointId: Uuid, role: Type.Optional(DeviceRole) }, { additionalProperties: false }),
      response: { 200: Device, ...errors(400, 401, 404, 409) },
    },
  }, async (request) => provisioning.claimDevice(ctx, request.principal, request.body));
}
