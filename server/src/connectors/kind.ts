import type { Static, TSchema } from 'typebox';
import type { Problem, TargetReading } from './domain/readings.js';

/**
 * The contract of a connector kind. A kind is a small adapter registered by name; the harness
 * (`harness.ts`) validates its configuration and state against its schemas, gives it an
 * AbortSignal that fires on the run's timeout, and checks every reading it returns.
 */
export type ConnectorErrorCode =
  /** The configuration cannot work (schema, time zone, path, unit …). */
  | 'config'
  /** Nothing answers at that address (refused, no route, unknown host). */
  | 'unreachable'
  /** The source connected but did not answer in time. */
  | 'timeout'
  /** The source refused the credentials. */
  | 'auth'
  /** The source answered something that is not what the kind speaks (HTML for JSON, not SunSpec …). */
  | 'protocol'
  /** The source answered with an error of its own (Modbus exception, HTTP 500, SQL error …). */
  | 'source'
  /** Stopped from outside (shutdown, instance disabled). */
  | 'aborted';

export class ConnectorError extends Error {
  constructor(readonly code: ConnectorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectorError';
  }
}

export interface RunContext {
  /** Fires on the run's timeout or when the caller stops it: close sockets, stop reading. */
  readonly signal: AbortSignal;
  /** Milliseconds since the epoch, passed in so tests and replays set the clock. */
  readonly now: () => number;
}

export interface RunOutput<S> {
  readonly readings: TargetReading[];
  /** The state to keep for the next run (watermarks, processed files, a discovered layout). */
  readonly state: S;
  /** Items that failed while the rest went on (rows, points, files). */
  readonly problems: Problem[];
  /** A batch limit was reached and more data waits: run again soon. */
  readonly more?: boolean | undefined;
  /** Facts worth showing with the status (device identity, files read, server version …). */
  readonly details?: Readonly<Record<string, string>> | undefined;
}

export interface TestOutput {
  /** The first readings the connector maps (at most the test's limit). */
  readonly readings: TargetReading[];
  readonly problems: Problem[];
  readonly details: Readonly<Record<string, string>>;
}

export interface FinishOutput<S> {
  readonly state: S;
  readonly problems: Problem[];
}

export interface ControlOutput<S> {
  readonly state: S;
  /** What was written, e.g. `123/WMaxLimPct = 500`. */
  readonly written: readonly string[];
}

export interface ConnectorKind<TConfig extends TSchema, TState extends TSchema, TCommand extends TSchema = TSchema> {
  readonly name: string;
  readonly summary: string;
  /** JSON Schema of the configuration (drives the manager's form); secrets are `writeOnly`. */
  readonly configSchema: TConfig;
  /**
   * `device`: the kind reaches hardware of the machine it runs on (a serial port), so only
   * `gridshare agent` and the CLI use it; the platform neither offers nor runs it as an instance.
   */
  readonly runsOn?: 'device' | undefined;
  readonly stateSchema: TState;
  readonly initialState: Static<TState>;
  /** The run's timeout unless the instance sets one. */
  readonly defaultTimeoutMs: number;
  /** Checks the schema cannot express; each message names the field. */
  configProblems(config: Static<TConfig>): string[];
  /** Dry run: connect, read once, map; store nothing, move nothing, keep no state. */
  test(config: Static<TConfig>, context: RunContext, limit: number): Promise<TestOutput>;
  run(config: Static<TConfig>, state: Static<TState>, context: RunContext): Promise<RunOutput<Static<TState>>>;
  /**
   * Work a run leaves until its readings are stored (renaming the files it read): the caller
   * stores the readings, saves the state, then calls this; the next run does it otherwise.
   */
  finish?(config: Static<TConfig>, state: Static<TState>, context: RunContext): Promise<FinishOutput<Static<TState>>>;
  /** Kinds that can write setpoints. */
  readonly commandSchema?: TCommand | undefined;
  control?(config: Static<TConfig>, state: Static<TState>, command: Static<TCommand>, context: RunContext): Promise<ControlOutput<Static<TState>>>;
}

/**
 * A failure to reach a server, as every kind words it, or undefined for other errors. `at`
 * names the server (`127.0.0.1:502`, `MySQL at db:3306`).
 */
export function networkFailure(error: unknown, at: string): ConnectorError | undefined {
  const e = error as (NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException }) | undefined;
  const code = e?.code ?? e?.cause?.code;
  switch (code) {
    case 'ECONNREFUSED': return new ConnectorError('unreachable', `${at} refused the connection: nothing listens there`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN': return new ConnectorError('unreachable', `${at}: unknown host`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH': return new ConnectorError('unreachable', `${at} cannot be reached from this server (no route)`);
    case 'ETIMEDOUT': return new ConnectorError('timeout', `${at} did not answer in time`);
    default: return undefined;
  }
}
