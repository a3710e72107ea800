/** Secrets at rest: what other capabilities use to seal what they store (device and meter keys, connector credentials, signing keys). */
export { SecretBox, SealedValueError, generateMasterKey, isSealed, type MasterKey } from './box.js';
export { environmentKeys, keyFile, memoryKeys, KEY_FILE_NAME, SECRET_KEY_VARIABLE, type KeyStore } from './keyring.js';
export { sealedPlace, sealedStore, keyIdSql, type SealedStore, type SealedTableSql, type SealedRow, type SealedChange } from './sealed-store.js';
export { Secrets, MissingMasterKeyError, type RotationResult, type SecretsStatus } from './service.js';
export { secretsRoutes } from './routes.js';
export { registerSecretsCommands } from './commands.js';
