/** broker-security: device authentication and topic confinement on an external MQTT broker. */
export { BrokerAuthHook } from './auth-hook.js';
export { checkBroker } from './broker-check.js';
export { MosquittoSync } from './mosquitto-sync.js';
export { queuedMessagesPerSession, type OutageSizing } from './domain/queue-sizing.js';
export { brokerSecurityRoutes } from './routes.js';
