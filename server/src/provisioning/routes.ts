import { Readable } from 'node:stream';
import type { Api } from '../platform/http/api.js';
import { DomainError, NotFoundError } from '../kernel/errors.js';
import { batchOfDevice, getDevice } from '../registry/index.js';
import { requireManager } from '../accounts/index.js';
import { provisioningRoutes as contract, QR_STICKER_TYPES } from '@gridshare/contract/provisioning';
import { fileFromZip } from './artefacts.js';
import * as provisioning from './service.js';

export async function provisioningRoutes(app: Api, ctx: provisioning.ProvisioningContext): Promise<void> {
  app.post(contract.provisionBatch.path, { schema: contract.provisionBatch.schema }, async (request, reply) => {
    const input = { count: request.body.count, kind: request.body.kind ?? 'meter-reader', name: request.body.name } as const;
    if (!request.headers.accept?.includes('application/x-ndjson')) {
      return reply.status(201).send(await provisioning.provisionBatch(ctx, request.principal, request.params.id, input));
    }
    // Progress for command-line clients: one JSON line per step, the batch (or the error) last.
    // A refusal known before the work starts is an HTTP error, not a line after a 201.
    await provisioning.assertBatchAllowed(ctx, request.principal, request.params.id, input);
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

  app.get(contract.listBatches.path, { schema: contract.listBatches.schema }, async (request) => provisioning.listBatches(ctx.db, request.principal, request.params.id));

  app.get(contract.getBatch.path, { schema: contract.getBatch.schema }, async (request) => provisioning.getBatch(ctx.db, request.principal, request.params.id));

  app.patch(contract.renameBatch.path, { schema: contract.renameBatch.schema }, async (request) => provisioning.renameBatch(ctx.db, ctx.events, request.principal, request.params.id, request.body.name));

  app.post(contract.rollbackBatch.path, { schema: contract.rollbackBatch.schema }, async (request) => provisioning.rollbackBatch(ctx, request.principal, request.params.id, request.body.force ?? false));

  app.get(contract.batchArtefacts.path, { schema: contract.batchArtefacts.schema }, async (request, reply) => {
    const batch = await provisioning.getBatch(ctx.db, request.principal, request.params.id);
    const zip = await ctx.store.load(batch.id);
    if (!zip) throw new NotFoundError('artefacts of this batch');
    return reply
      .type('application/zip')
      .header('content-disposition', `attachment; filename="gridshare-batch-${batch.id}.zip"`)
      .send(zip);
  });

  app.get(contract.batchStickers.path, { schema: contract.batchStickers.schema }, async (request, reply) => {
    const sheet = await provisioning.stickerSheet(ctx, request.principal, request.params.id, request.query.lang);
    // Streamed as it is drawn. A client that leaves early destroys the stream; the rest is dropped.
    const pdf = new Readable({ read: () => undefined });
    void ctx.builder.stickers(sheet, (chunk) => {
      if (!pdf.destroyed) pdf.push(chunk);
    }).then(() => pdf.push(null), (error: unknown) => pdf.destroy(error instanceof Error ? error : new Error(String(error))));
    return reply
      .type('application/pdf')
      .header('content-disposition', `attachment; filename="gridshare-stickers-${request.params.id}.pdf"`)
      .header('cache-control', 'no-store')
      .send(pdf);
  });

  app.get(contract.deviceConfiguration.path, { schema: contract.deviceConfiguration.schema }, async (request) => provisioning.deviceConfiguration(ctx, request.principal, request.params.id));

  for (const [file, route] of [['qr.png', contract.deviceQrPng], ['qr.svg', contract.deviceQrSvg]] as const) {
    const type = QR_STICKER_TYPES[file];
    app.get(route.path, { schema: route.schema }, async (request, reply) => {
      const device = await getDevice(ctx.db, request.principal, request.params.id);
      requireManager(request.principal, device.communityId, 'device');
      const batchId = await batchOfDevice(ctx.db, device.id);
      const zip = batchId ? await ctx.store.load(batchId) : undefined;
      const content = zip && fileFromZip(zip, `devices/${device.id}/${file}`);
      if (!content) throw new NotFoundError('QR code (only provisioned devices have one)');
      return reply.type(type).send(Buffer.from(content));
    });
  }

  app.post(contract.rotateKey.path, { schema: contract.rotateKey.schema }, async (request) => provisioning.rotateKey(ctx, request.principal, request.params.id, request.params.slot));

  app.post(contract.claimDevice.path, { schema: contract.claimDevice.schema }, async (request) => provisioning.claimDevice(ctx, request.principal, request.body));
}
