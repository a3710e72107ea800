import type { Api } from '../platform/http/api.js';
import { connectorRoutes as contract } from '@gridshare/contract/connectors';
import type { ConnectorService } from './service.js';

/** The managers' connector routes: thin, the service checks who may do what. */
export async function connectorRoutes(app: Api, { service }: { service: ConnectorService }): Promise<void> {
  app.get(contract.connectorKinds.path, { schema: contract.connectorKinds.schema }, async (request) => service.kinds(request.principal));

  app.get(contract.listConnectors.path, { schema: contract.listConnectors.schema }, async (request) => service.list(request.principal, request.params.id));

  app.post(contract.createConnector.path, { schema: contract.createConnector.schema }, async (request, reply) =>
    reply.status(201).send(await service.create(request.principal, request.params.id, request.body)));

  app.post(contract.testConnectorConfig.path, { schema: contract.testConnectorConfig.schema }, async (request) => {
    const report = await service.test(request.principal, request.params.id, request.body);
    return {
      ok: report.ok, readings: report.readings, problems: report.problems, details: report.details,
      error: report.error ?? null, durationMs: report.durationMs,
    };
  });

  app.get(contract.getConnector.path, { schema: contract.getConnector.schema }, async (request) => service.get(request.principal, request.params.id));

  app.patch(contract.updateConnector.path, { schema: contract.updateConnector.schema }, async (request) =>
    service.update(request.principal, request.params.id, request.body));

  app.delete(contract.deleteConnector.path, { schema: contract.deleteConnector.schema }, async (request, reply) => {
    await service.remove(request.principal, request.params.id);
    return reply.status(204).send(null);
  });

  app.get(contract.connectorRuns.path, { schema: contract.connectorRuns.schema }, async (request) => service.runs(request.principal, request.params.id));

  app.post(contract.runConnectorNow.path, { schema: contract.runConnectorNow.schema }, async (request, reply) =>
    reply.status(202).send(await service.runNow(request.principal, request.params.id)));

  app.post(contract.connectorCommand.path, { schema: contract.connectorCommand.schema }, async (request) =>
    service.command(request.principal, request.params.id, request.body.command));
}
