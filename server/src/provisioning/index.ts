/**
 * Provisioning: the public API for the device side (the agent reads the configuration file a
 * batch produced and signs its own SAS tokens with the key in it).
 */
export { parseConnectionString, formatConnectionString, ConnectionStringError, type ConnectionString } from './connection-string.js';
export { deviceResource, signSasToken, MAX_TOKEN_LIFETIME_S } from './sas.js';
export { deviceConfig, type DeviceConfig } from './artefacts.js';
export { brokerPassword, brokerUsername } from './broker-password.js';

export { ArtefactBuilder } from './artefact-builder.js';
export { ArtefactStore } from './artefact-store.js';
export { type Endpoints } from './artefacts.js';
export { registerProvisioningCommands } from './commands.js';
export { openDeviceKey, readDeviceKeys, sealDeviceKeys } from './credentials.js';
export { deviceCredentialsStore } from './store.js';
export { deviceAuthenticator } from './device-auth.js';
export { generateDeviceKey } from './keys.js';
export { provisioningRoutes } from './routes.js';
export { giveDeviceKeys } from './service.js';
