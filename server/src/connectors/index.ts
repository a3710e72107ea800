/**
 * Connectors: data sources that are not Gridshare meter readers (SunSpec and other Modbus TCP
 * devices, CSV files on disk, FTP or SFTP, HTTP JSON APIs, SQL databases), each a kind
 * registered by name, producing readings bound to targets; instances of a community run on the
 * `connectors` job and store their readings through ingest. See README.md.
 */
import './kinds/index.js';

export { runConnector, testConnector, finishConnector, controlConnector, checkConfig, DEFAULT_TEST_LIMIT } from './harness.js';
export type { RunOptions, RunReport, TestReport, FinishReport, ControlReport, ConnectorFailure } from './harness.js';
export { getKind, kindNames } from './registry.js';
export type { RegisteredKind } from './registry.js';
export { ConnectorError } from './kind.js';
export type { ConnectorErrorCode, ConnectorKind, RunContext, RunOutput, TestOutput, FinishOutput, ControlOutput } from './kind.js';
export { secretPaths, withoutSecrets } from './schema.js';
export type { TargetReading, Problem } from './domain/readings.js';

export { ConnectorService, CONNECTORS_JOB, addConnector, type ConnectorInput, type ConnectorView } from './service.js';
export { connectorJob } from './job.js';
export { connectorRoutes } from './routes.js';
export { connectorSecretsStore } from './store.js';
export { registerConnectorCommands } from './commands.js';
