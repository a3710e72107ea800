import { flexRoutes as contract, UFTP_MESSAGE_MAX_BYTES } from '@gridshare/contract/flex';
import type { Api } from '../platform/http/api.js';
import { UnsupportedMediaTypeError } from '../kernel/errors.js';
import type { FlexContracts } from './contracts.js';
import type { FlexAdmin } from './service.js';
import type { UftpTransport } from './transport.js';
import type { FlexPortfolio } from './portfolio.js';
import type { FlexValidation } from './validate.js';
import type { FlexOperation } from './operate.js';
import type { FlexReports } from './reports.js';
import type { FlexActivations } from './activations.js';

const XML_TYPES = ['text/xml', 'application/xml'];

/** The UFTP endpoint (authenticated by signatures, not sessions) and the managers' routes. Thin: transport.ts and service.ts do the work. */
export async function flexRoutes(app: Api, { transport, admin, contracts, portfolio, validation, operation, reports, activations }: {
  transport: UftpTransport; admin: FlexAdmin; contracts: FlexContracts; portfolio: FlexPortfolio; validation: FlexValidation; operation: FlexOperation;
  reports: FlexReports; activations: FlexActivations;
}): Promise<void> {
  for (const type of XML_TYPES) {
    if (!app.hasContentTypeParser(type)) app.addContentTypeParser(type, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  }

  app.post(contract.receiveUftpMessage.path, {
    schema: contract.receiveUftpMessage.schema,
    bodyLimit: UFTP_MESSAGE_MAX_BYTES,
    // The size is known before a byte of the body is read, or the message is not taken at all.
    onRequest: async (request, reply) => {
      if (request.headers['content-length'] === undefined) {
        await reply.status(411).send({ error: 'length_required', message: 'send the SignedMessage with a Content-Length' });
      }
    },
  }, async (request, reply) => {
    const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!XML_TYPES.includes(type) || !Buffer.isBuffer(request.body)) throw new UnsupportedMediaTypeError('send the SignedMessage as text/xml');
    await transport.receive(request.body);
    return reply.status(200).send('');
  });

  app.get(contract.flexIdentity.path, { schema: contract.flexIdentity.schema }, async (request) => admin.identity(request.principal, request.params.id));

  app.put(contract.setFlexIdentity.path, { schema: contract.setFlexIdentity.schema }, async (request) =>
    admin.setIdentity(request.principal, request.params.id, request.body));

  app.get(contract.flexParticipants.path, { schema: contract.flexParticipants.schema }, async (request) => admin.participants(request.principal, request.params.id));

  app.post(contract.addFlexParticipant.path, { schema: contract.addFlexParticipant.schema }, async (request, reply) =>
    reply.status(201).send(await admin.addParticipant(request.principal, request.params.id, request.body)));

  app.put(contract.updateFlexParticipant.path, { schema: contract.updateFlexParticipant.schema }, async (request) =>
    admin.updateParticipant(request.principal, request.params.id, request.body));

  app.delete(contract.removeFlexParticipant.path, { schema: contract.removeFlexParticipant.schema }, async (request, reply) => {
    await admin.removeParticipant(request.principal, request.params.id);
    return reply.status(204).send(null);
  });

  app.get(contract.flexMessages.path, { schema: contract.flexMessages.schema }, async (request) => admin.messages(request.principal, request.params.id, request.query));

  app.get(contract.flexContracts.path, { schema: contract.flexContracts.schema }, async (request) => contracts.list(request.principal, request.params.id));

  app.post(contract.createFlexContract.path, { schema: contract.createFlexContract.schema }, async (request, reply) =>
    reply.status(201).send(await contracts.create(request.principal, request.params.id, request.body)));

  app.get(contract.flexContract.path, { schema: contract.flexContract.schema }, async (request) => contracts.get(request.principal, request.params.id));

  app.put(contract.updateFlexContract.path, { schema: contract.updateFlexContract.schema }, async (request) =>
    contracts.update(request.principal, request.params.id, request.body));

  app.post(contract.activateFlexContract.path, { schema: contract.activateFlexContract.schema }, async (request) => contracts.activate(request.principal, request.params.id));

  app.post(contract.endFlexContract.path, { schema: contract.endFlexContract.schema }, async (request) => contracts.end(request.principal, request.params.id));

  app.get(contract.myFlexDevices.path, { schema: contract.myFlexDevices.schema }, async (request) => contracts.myDevices(request.principal, request.params.id));

  app.put(contract.optInFlexDevice.path, { schema: contract.optInFlexDevice.schema }, async (request) =>
    contracts.optIn(request.principal, request.params.id, request.params.deviceId, request.body.maxPowerW ?? null));

  app.delete(contract.optOutFlexDevice.path, { schema: contract.optOutFlexDevice.schema }, async (request, reply) => {
    await contracts.optOut(request.principal, request.params.id, request.params.deviceId);
    return reply.status(204).send(null);
  });

  app.get(contract.flexPortfolio.path, { schema: contract.flexPortfolio.schema }, async (request) => portfolio.list(request.principal, request.params.id));

  app.put(contract.setFlexPortfolio.path, { schema: contract.setFlexPortfolio.schema }, async (request) =>
    portfolio.setByHand(request.principal, request.params.id, request.body.congestionPoints));

  app.get(contract.flexOffers.path, { schema: contract.flexOffers.schema }, async (request) => validation.offers(request.principal, request.params.id));

  app.post(contract.offerFlexUnsolicited.path, { schema: contract.offerFlexUnsolicited.schema }, async (request, reply) =>
    reply.status(201).send(await validation.offerUnsolicited(request.principal, request.params.id, request.body)));
  app.post(contract.revokeFlexOffer.path, { schema: contract.revokeFlexOffer.schema }, async (request) =>
    validation.revoke(request.principal, request.params.id, request.params.messageId));

  app.get(contract.flexOrderDelivery.path, { schema: contract.flexOrderDelivery.schema }, async (request) =>
    operation.delivery(request.principal, request.params.id, request.params.messageId));

  app.get(contract.flexSettlements.path, { schema: contract.flexSettlements.schema }, async (request) => reports.settlements(request.principal, request.params.id));

  app.get(contract.flexPrognosis.path, { schema: contract.flexPrognosis.schema }, async (request) =>
    reports.prognosis(request.principal, request.params.id, request.query.period));

  app.get(contract.myFlexRewards.path, { schema: contract.myFlexRewards.schema }, async (request) => reports.myRewards(request.principal, request.params.id));

  app.get(contract.myFlexActivationRequests.path, { schema: contract.myFlexActivationRequests.schema }, async (request) =>
    activations.mine(request.principal, request.params.id));

  app.post(contract.answerFlexActivationRequest.path, { schema: contract.answerFlexActivationRequest.schema }, async (request) =>
    activations.answer(request.principal, request.params.id, request.body.answer, request.body.powerW));

  app.get(contract.flexActivationSummary.path, { schema: contract.flexActivationSummary.schema }, async (request) =>
    activations.summary(request.principal, request.params.id));
}
