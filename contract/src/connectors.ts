/** Connectors: a community's data sources that are not Gridshare meter readers (server/src/connectors). */
import { Type, type Static } from 'typebox';
import { DeviceId, errors, IdParams, IsoDateTime, NoContent, nullable, Uuid } from './common.js';
import { route } from './route.js';

const Name = Type.String({ minLength: 1, maxLength: 120 });
const KindName = Type.String({ minLength: 1, maxLength: 64 });
/** A kind's configuration: its JSON Schema (GET connector-kinds) says what it holds. */
const Config = Type.Unknown({ description: 'The configuration the kind\'s configSchema describes; secret (writeOnly) fields are never returned' });
const Outcome = Type.Enum(['ok', 'partial', 'failed']);
const Failure = Type.Object({ code: Type.String(), message: Type.String() });
const Problem = Type.Object({ where: Type.String(), message: Type.String() });

export const ConnectorBinding = Type.Object({
  target: Type.String({ minLength: 1, maxLength: 120, description: 'A target the connector names (`inverter`, a mapping\'s target)' }),
  deviceId: DeviceId,
}, { additionalProperties: false, description: 'The target\'s readings are stored as this device\'s (a device of the same community)' });

const Schedule = {
  intervalS: Type.Integer({ minimum: 10, maximum: 86_400, description: 'Seconds between runs' }),
  jitterS: Type.Integer({ minimum: 0, maximum: 86_400, description: 'Up to this many seconds added at random to each interval' }),
  timeoutMs: nullable(Type.Integer({ minimum: 1_000, maximum: 600_000, description: 'A run longer than this fails (null: the kind\'s default)' })),
};

const ConnectorCreate = Type.Object({
  kind: KindName,
  name: Name,
  config: Config,
  bindings: Type.Optional(Type.Array(ConnectorBinding, { maxItems: 200 })),
  enabled: Type.Optional(Type.Boolean()),
  intervalS: Type.Optional(Schedule.intervalS),
  jitterS: Type.Optional(Schedule.jitterS),
  timeoutMs: Type.Optional(Schedule.timeoutMs),
}, { additionalProperties: false });

const ConnectorPatch = Type.Object({
  name: Type.Optional(Name),
  config: Type.Optional(Config),
  bindings: Type.Optional(Type.Array(ConnectorBinding, { maxItems: 200 })),
  enabled: Type.Optional(Type.Boolean()),
  intervalS: Type.Optional(Schedule.intervalS),
  jitterS: Type.Optional(Schedule.jitterS),
  timeoutMs: Type.Optional(Schedule.timeoutMs),
}, { additionalProperties: false, minProperties: 1 });

export const ConnectorStatus = Type.Object({
  nextRunAt: nullable(IsoDateTime),
  lastRunAt: nullable(IsoDateTime),
  lastSuccessAt: nullable(IsoDateTime),
  lastOutcome: nullable(Outcome),
  readingsStored: Type.Integer(),
  lastError: nullable(Failure),
  failuresInRow: Type.Integer(),
});

export const Connector = Type.Object({
  id: Uuid,
  communityId: Uuid,
  kind: Type.String(),
  name: Type.String(),
  config: Config,
  secretsSet: Type.Array(Type.String(), { description: 'JSON pointers of the secret fields that hold a value (the values are never returned)' }),
  bindings: Type.Array(ConnectorBinding),
  enabled: Type.Boolean(),
  intervalS: Type.Integer(),
  jitterS: Type.Integer(),
  timeoutMs: nullable(Type.Integer()),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
  status: ConnectorStatus,
});

export type Connector = Static<typeof Connector>;
export type ConnectorBinding = Static<typeof ConnectorBinding>;

const ConnectorKind = Type.Object({
  name: Type.String(),
  summary: Type.String(),
  configSchema: Type.Unknown({ description: 'JSON Schema of the configuration; secrets are writeOnly' }),
  commandSchema: nullable(Type.Unknown({ description: 'JSON Schema of the commands it takes (kinds that write setpoints)' })),
  secretFields: Type.Array(Type.String(), { description: 'JSON pointers of the writeOnly fields (* for every array item)' }),
  defaultTimeoutMs: Type.Integer(),
});

export type ConnectorKind = Static<typeof ConnectorKind>;

const Reading = Type.Object({ target: Type.String(), ts: Type.String(), quantity: Type.String(), value: Type.Number(), unit: Type.String() });

const TestRequest = Type.Object({
  kind: KindName,
  config: Config,
  connectorId: Type.Optional(Uuid),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
}, { additionalProperties: false, description: 'With connectorId, secret fields left out are taken from that connector' });

const TestResult = Type.Object({
  ok: Type.Boolean(),
  readings: Type.Array(Reading),
  problems: Type.Array(Problem),
  details: Type.Record(Type.String(), Type.String()),
  error: nullable(Failure),
  durationMs: Type.Integer(),
});

export type ConnectorTestResult = Static<typeof TestResult>;

const Run = Type.Object({
  startedAt: IsoDateTime,
  durationMs: Type.Integer(),
  outcome: Outcome,
  readingsStored: Type.Integer(),
  error: nullable(Failure),
  problems: Type.Array(Problem),
});

export type ConnectorRun = Static<typeof Run>;

const CommandResult = Type.Object({ ok: Type.Boolean(), written: Type.Array(Type.String()), error: nullable(Failure) });

export const connectorRoutes = {
  connectorKinds: route('GET', '/api/v1/connector-kinds', {
    tags: ['connectors'], summary: 'Connector kinds and the JSON Schemas of their configurations (secret fields writeOnly)',
    response: { 200: Type.Array(ConnectorKind), ...errors(401) },
  }),
  listConnectors: route('GET', '/api/v1/communities/:id/connectors', {
    tags: ['connectors'], summary: 'A community\'s connectors with their status (managers)', params: IdParams,
    response: { 200: Type.Array(Connector), ...errors(401, 403, 404) },
  }),
  createConnector: route('POST', '/api/v1/communities/:id/connectors', {
    tags: ['connectors'], summary: 'Add a connector; its secrets are stored sealed and never returned (managers)', params: IdParams, body: ConnectorCreate,
    response: { 201: Connector, ...errors(400, 401, 403, 404, 409) },
  }),
  testConnectorConfig: route('POST', '/api/v1/communities/:id/connectors/test', {
    tags: ['connectors'], summary: 'Dry run: connect, read once, show the first mapped readings or the precise error; stores nothing (managers)',
    params: IdParams, body: TestRequest, response: { 200: TestResult, ...errors(400, 401, 403, 404) },
  }),
  getConnector: route('GET', '/api/v1/connectors/:id', {
    tags: ['connectors'], summary: 'One connector with its status (managers)', params: IdParams, response: { 200: Connector, ...errors(401, 403, 404) },
  }),
  updateConnector: route('PATCH', '/api/v1/connectors/:id', {
    tags: ['connectors'], summary: 'Change, enable or disable a connector; a secret left out keeps its stored value (managers)', params: IdParams, body: ConnectorPatch,
    response: { 200: Connector, ...errors(400, 401, 403, 404, 409) },
  }),
  deleteConnector: route('DELETE', '/api/v1/connectors/:id', {
    tags: ['connectors'], summary: 'Remove a connector (the readings it stored stay) (managers)', params: IdParams, response: { ...NoContent, ...errors(401, 403, 404) },
  }),
  connectorRuns: route('GET', '/api/v1/connectors/:id/runs', {
    tags: ['connectors'], summary: 'A connector\'s recent runs and their errors, newest first (managers)', params: IdParams,
    response: { 200: Type.Array(Run), ...errors(401, 403, 404) },
  }),
  runConnectorNow: route('POST', '/api/v1/connectors/:id/run', {
    tags: ['connectors'], summary: 'Run a connector as soon as possible (managers)', params: IdParams,
    response: { 202: Connector, ...errors(401, 403, 404, 409) },
  }),
  connectorCommand: route('POST', '/api/v1/connectors/:id/commands', {
    tags: ['connectors'], summary: 'Write a setpoint through a connector whose kind takes commands (modbus-sunspec power and battery limits) (managers)',
    params: IdParams, body: Type.Object({ command: Type.Unknown({ description: 'As the kind\'s commandSchema describes' }) }, { additionalProperties: false }),
    response: { 200: CommandResult, ...errors(400, 401, 403, 404) },
  }),
};
