import type { Api } from '../platform/http/api.js';
import { controlRoutes as contract } from '@gridshare/contract/control';
import type { CommandDevice, ControlService } from './service.js';
import { commandView } from './service.js';

/** Checks a device's `Authorization: SharedAccessSignature …` header for the device in the path. */
export type DeviceAuthenticator = (deviceId: string, authorization: string | undefined) => Promise<CommandDevice>;

export async function controlRoutes(app: Api, options: { control: ControlService; authenticateDevice: DeviceAuthenticator }): Promise<void> {
  const { control, authenticateDevice } = options;

  app.get(contract.pollCommands.path, { schema: contract.pollCommands.schema }, async (request) => {
    const device = await authenticateDevice(request.params.id, request.headers.authorization);
    return { commands: await control.poll(device) };
  });

  app.post(contract.acknowledgeCommand.path, { schema: contract.acknowledgeCommand.schema }, async (request) => {
    const device = await authenticateDevice(request.params.id, request.headers.authorization);
    return control.acknowledgeBody(device, request.body);
  });

  app.get(contract.communityCommands.path, { schema: contract.communityCommands.schema }, async (request) =>
    control.list(request.principal, request.params.id, request.query));

  app.post(contract.issueCommand.path, { schema: contract.issueCommand.schema }, async (request, reply) =>
    reply.status(201).send(commandView(await control.issueCommand(request.principal, request.params.id, request.body))));
}
