import type { Api } from '../platform/http/api.js';
import { ledgerRoutes as contract, LEDGER_PREFIX } from '@gridshare/contract/ledger';
import { requireAdmin } from '../accounts/index.js';
import { NotFoundError } from '../kernel/errors.js';
import { toBase64 } from './domain/index.js';
import type { LedgerService } from './service.js';
import type { EventPublisher } from '../platform/events/index.js';
import type { StoredWitness } from './store.js';

const witnessView = (w: StoredWitness) => ({
  name: w.name, verifierKey: w.verifierKey, url: w.url, cosignedSize: w.cosignedSize, verifiedSize: w.verifiedSize,
  lastAttemptAt: w.lastAttemptAt?.toISOString() ?? null, lastError: w.lastError, addedAt: w.addedAt.toISOString(),
});

/** Public: key, checkpoint, tiles, proofs (hashes and commitments only). A statement's receipt: its member and managers. */
export async function ledgerRoutes(app: Api, { service, events }: { service: LedgerService; events: EventPublisher }): Promise<void> {
  app.get(contract.ledgerKey.path, { schema: contract.ledgerKey.schema }, async () => ({ ...(await service.identity()), tilesPath: LEDGER_PREFIX }));

  app.get(contract.ledgerCommunityKey.path, { schema: contract.ledgerCommunityKey.schema }, async (request) => service.communityIdentity(request.params.id));

  app.get(contract.ledgerCheckpoint.path, { schema: contract.ledgerCheckpoint.schema }, async (_request, reply) => reply
    .header('content-type', 'text/plain; charset=utf-8')
    .header('cache-control', 'no-cache')
    .send(await service.latestCheckpointNote()));

  app.post(contract.ledgerCheckpointNow.path, { schema: contract.ledgerCheckpointNow.schema }, async (request) => {
    requireAdmin(request.principal);
    while ((await service.append()).more);
    const checkpoint = await service.checkpoint();
    return { size: checkpoint.size, publishedAt: checkpoint.publishedAt.toISOString() };
  });

  app.get(contract.listWitnesses.path, { schema: contract.listWitnesses.schema }, async (request) => {
    requireAdmin(request.principal);
    return (await service.listWitnesses()).map(witnessView);
  });

  app.post(contract.putWitness.path, { schema: contract.putWitness.schema }, async (request) => {
    requireAdmin(request.principal);
    return witnessView(await service.putWitness(events, request.body));
  });

  app.delete(contract.removeWitness.path, { schema: contract.removeWitness.schema }, async (request, reply) => {
    requireAdmin(request.principal);
    await service.removeWitness(events, request.params.name);
    return reply.status(204).send(null);
  });

  app.get(contract.ledgerTile.path, { schema: contract.ledgerTile.schema }, async (request, reply) => {
    const path = `tile/${request.params['*']}`;
    const tile = await service.tile(path);
    if (!tile) throw new NotFoundError(`tile ${path}`);
    // Full tiles never change; a partial one is the prefix of what it becomes, and also stays as it is.
    return reply
      .header('content-type', 'application/octet-stream')
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(Buffer.from(tile.bytes.buffer, tile.bytes.byteOffset, tile.bytes.byteLength));
  });

  app.get(contract.inclusionProof.path, { schema: contract.inclusionProof.schema }, async (request) => {
    const proof = await service.inclusionProof(request.query.index, request.query.size);
    return { ...proof, hashes: proof.hashes.map(toBase64) };
  });

  app.get(contract.consistencyProof.path, { schema: contract.consistencyProof.schema }, async (request) => {
    const proof = await service.consistencyProof(request.query.from, request.query.to);
    return { ...proof, hashes: proof.hashes.map(toBase64) };
  });

  app.get(contract.statementReceipt.path, { schema: contract.statementReceipt.schema }, async (request, reply) => {
    const receipt = await service.statementReceipt(request.principal, request.params.id);
    return reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="receipt-${request.params.id.slice(0, 8)}.json"`)
      .send(receipt);
  });

  app.get(contract.statementJson.path, { schema: contract.statementJson.schema }, async (request, reply) => {
    const bytes = await service.statementDocument(request.principal, request.params.id);
    return reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="statement-${request.params.id.slice(0, 8)}.json"`)
      .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });

  app.get(contract.statementVerification.path, { schema: contract.statementVerification.schema },
    async (request) => service.statementVerification(request.principal, request.params.id));

  app.get(contract.walletMovementProof.path, { schema: contract.walletMovementProof.schema },
    async (request) => service.walletMovementProof(request.principal, request.params.id, request.params.sequence));

  app.get(contract.walletMovementVerification.path, { schema: contract.walletMovementVerification.schema },
    async (request) => service.walletMovementVerification(request.principal, request.params.id, request.params.sequence));

  app.get(contract.communityLedger.path, { schema: contract.communityLedger.schema },
    async (request) => service.communityStatus(request.principal, request.params.id));
}
