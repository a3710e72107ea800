/** control: the public surface other capabilities and the composition root use. */
export { COMMAND_KINDS, COMMAND_STATES, type CommandKind, type CommandState } from './domain/commands.js';
export { CONTROL_JOB, controlJob, subscribeControl } from './job.js';
export { embeddedCommandTransport, startExternalCommands, type ExternalCommands } from './mqtt.js';
export { controlRoutes } from './routes.js';
export { ControlService, deviceCommand, type CommandDevice, type CommandTransport, type ManualCommand } from './service.js';
export { commandById, type StoredCommand } from './store.js';
