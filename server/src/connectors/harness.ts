import { formatUtcInstant } from '../kernel/time.js';
import { readingProblem, type Problem, type TargetReading } from './domain/readings.js';
import { ConnectorError, type ConnectorErrorCode, type RunContext } from './kind.js';
import { getKind, kindNames, type RegisteredKind } from './registry.js';
import { validateAgainst } from './schema.js';

/**
 * Running a connector: the one way the service (and the CLI) call a kind. Every call resolves, never
 * throws: a failure is a report with an error code and a message a manager can act on. Each run
 * has a timeout and can be stopped by the caller's signal; when either fires, the kind's signal
 * fires too (so its sockets close) and the report comes back at once, whatever the kind does.
 * Every reading is checked before it leaves; a bad one is dropped with a problem.
 */
export interface RunOptions {
  /** Default: the kind's own (Modbus 20 s, files and SQL 60–120 s). */
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly now?: (() => number) | undefined;
}

export interface ConnectorFailure {
  readonly code: ConnectorErrorCode;
  readonly message: string;
}

interface Timing {
  readonly startedAt: string;
  readonly durationMs: number;
}

export interface RunReport extends Timing {
  readonly kind: string;
  /** ok: everything read; partial: readings and problems; failed: nothing read (see error). */
  readonly outcome: 'ok' | 'partial' | 'failed';
  readonly readings: TargetReading[];
  /** The state to store: the new one, or the one given when the run failed. */
  readonly state: unknown;
  readonly problems: Problem[];
  readonly more: boolean;
  readonly details: Readonly<Record<string, string>>;
  readonly error?: ConnectorFailure | undefined;
}

export interface TestReport extends Timing {
  readonly kind: string;
  readonly ok: boolean;
  readonly readings: TargetReading[];
  readonly problems: Problem[];
  readonly details: Readonly<Record<string, string>>;
  readonly error?: ConnectorFailure | undefined;
}

export interface ControlReport extends Timing {
  readonly kind: string;
  readonly ok: boolean;
  readonly written: readonly string[];
  readonly state: unknown;
  readonly error?: ConnectorFailure | undefined;
}

export const DEFAULT_TEST_LIMIT = 20;

/** Validated configuration with defaults, or the reasons it cannot work. */
export function checkConfig(kindName: string, config: unknown): { kind: RegisteredKind; config: unknown } | { error: ConnectorFailure } {
  const kind = getKind(kindName);
  if (!kind) return { error: { code: 'config', message: `unknown connector kind "${kindName}" (known: ${kindNames().join(', ')})` } };
  const checked = validateAgainst(kind.configSchema, config);
  if ('problems' in checked) return { error: { code: 'config', message: checked.problems.join('; ') } };
  const problems = kind.configProblems(checked.value);
  if (problems.length > 0) return { error: { code: 'config', message: problems.join('; ') } };
  return { kind, config: checked.value };
}

export async function runConnector(kindName: string, config: unknown, state: unknown, options: RunOptions = {}): Promise<RunReport> {
  const now = options.now ?? Date.now;
  const startedMs = now();
  const timing = (): Timing => ({ startedAt: formatUtcInstant(startedMs), durationMs: now() - startedMs });
  const failed = (error: ConnectorFailure): RunReport => ({
    kind: kindName, outcome: 'failed', readings: [], state, problems: [], more: false, details: {}, error, ...timing(),
  });
  const checked = checkConfig(kindName, config);
  if ('error' in checked) return failed(checked.error);
  const { kind } = checked;
  const stateChecked = validateAgainst(kind.stateSchema, state ?? kind.initialState);
  const startState = 'value' in stateChecked ? stateChecked.value : structuredClone(kind.initialState);
  const stateProblems: Problem[] = 'problems' in stateChecked ? [{ where: 'state', message: `stored state was unusable and was reset: ${stateChecked.problems.join('; ')}` }] : [];

  const result = await guarded(kind, options, now, (context) => kind.run(checked.config, startState, context));
  if ('error' in result) return failed(result.error);
  const { readings, problems } = checkReadings(result.value.readings, now());
  const allProblems = [...stateProblems, ...result.value.problems, ...problems];
  return {
    kind: kindName,
    outcome: allProblems.length === 0 ? 'ok' : readings.length > 0 ? 'partial' : 'failed',
    readings,
    state: result.value.state,
    problems: allProblems,
    more: result.value.more ?? false,
    details: result.value.details ?? {},
    error: readings.length === 0 && allProblems.length > 0 ? { code: 'source', message: describeProblem(allProblems[0]!) } : undefined,
    ...timing(),
  };
}

/** The dry run: reads once, returns at most `limit` readings, changes nothing at the source. */
export async function testConnector(kindName: string, config: unknown, options: RunOptions & { readonly limit?: number | undefined } = {}): Promise<TestReport> {
  const now = options.now ?? Date.now;
  const startedMs = now();
  const timing = (): Timing => ({ startedAt: formatUtcInstant(startedMs), durationMs: now() - startedMs });
  const checked = checkConfig(kindName, config);
  if ('error' in checked) return { kind: kindName, ok: false, readings: [], problems: [], details: {}, error: checked.error, ...timing() };
  const limit = options.limit ?? DEFAULT_TEST_LIMIT;
  const result = await guarded(checked.kind, options, now, (context) => checked.kind.test(checked.config, context, limit));
  if ('error' in result) return { kind: kindName, ok: false, readings: [], problems: [], details: {}, error: result.error, ...timing() };
  const { readings, problems } = checkReadings(result.value.readings, now());
  const allProblems = [...result.value.problems, ...problems];
  return {
    kind: kindName,
    ok: readings.length > 0,
    readings: readings.slice(0, limit),
    problems: allProblems,
    details: result.value.details,
    error: readings.length === 0 ? { code: 'source', message: allProblems[0] ? describeProblem(allProblems[0]) : 'the source gave no readings' } : undefined,
    ...timing(),
  };
}

export interface FinishReport extends Timing {
  readonly kind: string;
  readonly ok: boolean;
  readonly state: unknown;
  readonly problems: Problem[];
  readonly error?: ConnectorFailure | undefined;
}

/**
 * After the readings of a run are stored and its state saved: the work the run left for then
 * (csv-files renames or moves the files it read). Kinds without such work return the state.
 */
export async function finishConnector(kindName: string, config: unknown, state: unknown, options: RunOptions = {}): Promise<FinishReport> {
  const now = options.now ?? Date.now;
  const startedMs = now();
  const timing = (): Timing => ({ startedAt: formatUtcInstant(startedMs), durationMs: now() - startedMs });
  const checked = checkConfig(kindName, config);
  if ('error' in checked) return { kind: kindName, ok: false, state, problems: [], error: checked.error, ...timing() };
  const { kind } = checked;
  const stateChecked = validateAgainst(kind.stateSchema, state ?? kind.initialState);
  if ('problems' in stateChecked) return { kind: kindName, ok: false, state, problems: [], error: { code: 'config', message: `state: ${stateChecked.problems.join('; ')}` }, ...timing() };
  if (!kind.finish) return { kind: kindName, ok: true, state: stateChecked.value, problems: [], ...timing() };
  const finish = kind.finish.bind(kind);
  const result = await guarded(kind, options, now, (context) => finish(checked.config, stateChecked.value, context));
  if ('error' in result) return { kind: kindName, ok: false, state, problems: [], error: result.error, ...timing() };
  return { kind: kindName, ok: result.value.problems.length === 0, state: result.value.state, problems: result.value.problems, ...timing() };
}

/** Writes a setpoint through a kind that can (modbus-sunspec). */
export async function controlConnector(kindName: string, config: unknown, state: unknown, command: unknown, options: RunOptions = {}): Promise<ControlReport> {
  const now = options.now ?? Date.now;
  const startedMs = now();
  const timing = (): Timing => ({ startedAt: formatUtcInstant(startedMs), durationMs: now() - startedMs });
  const failed = (error: ConnectorFailure): ControlReport => ({ kind: kindName, ok: false, written: [], state, error, ...timing() });
  const checked = checkConfig(kindName, config);
  if ('error' in checked) return failed(checked.error);
  const { kind } = checked;
  if (!kind.control || !kind.commandSchema) return failed({ code: 'config', message: `connector kind ${kindName} cannot write setpoints` });
  const commandChecked = validateAgainst(kind.commandSchema, command);
  if ('problems' in commandChecked) return failed({ code: 'config', message: `command: ${commandChecked.problems.join('; ')}` });
  const stateChecked = validateAgainst(kind.stateSchema, state ?? kind.initialState);
  const startState = 'value' in stateChecked ? stateChecked.value : structuredClone(kind.initialState);
  const control = kind.control.bind(kind);
  const result = await guarded(kind, options, now, (context) => control(checked.config, startState, commandChecked.value, context));
  if ('error' in result) return failed(result.error);
  return { kind: kindName, ok: true, written: result.value.written, state: result.value.state, ...timing() };
}

/**
 * Runs `work` with a signal that fires on timeout or on the caller's signal, and returns as soon
 * as either fires even if `work` ignores it. Errors become failures with a code.
 */
async function guarded<T>(kind: RegisteredKind, options: RunOptions, now: () => number, work: (context: RunContext) => Promise<T>): Promise<{ value: T } | { error: ConnectorFailure }> {
  const timeoutMs = options.timeoutMs ?? kind.defaultTimeoutMs;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new ConnectorError('timeout', `no result within ${formatSeconds(timeoutMs)}: the source is too slow or hangs`)), timeoutMs);
  const stop = (): void => controller.abort(new ConnectorError('aborted', 'stopped before it finished'));
  if (options.signal?.aborted) stop();
  options.signal?.addEventListener('abort', stop, { once: true });
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(controller.signal.reason as Error);
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const running = Promise.resolve().then(() => work({ signal: controller.signal, now }));
    // The kind may still settle after an abort; its result is no longer anyone's business.
    running.catch(() => undefined);
    return { value: await Promise.race([running, aborted]) };
  } catch (error) {
    return { error: asFailure(error) };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', stop);
    if (onAbort) controller.signal.removeEventListener('abort', onAbort);
    // Anything the kind left open is closed by its signal.
    if (!controller.signal.aborted) controller.abort(new ConnectorError('aborted', 'run finished'));
  }
}

function asFailure(error: unknown): ConnectorFailure {
  if (error instanceof ConnectorError) return { code: error.code, message: error.message };
  if (error instanceof Error && 'code' in error && (error as { code: unknown }).code === 'bad_request') return { code: 'config', message: error.message };
  // A kind's bug must not look like the source's fault, nor crash the caller.
  return { code: 'source', message: `unexpected failure: ${error instanceof Error ? error.message : String(error)}` };
}

function checkReadings(readings: readonly TargetReading[], nowMs: number): { readings: TargetReading[]; problems: Problem[] } {
  const good: TargetReading[] = [];
  const problems: Problem[] = [];
  for (const reading of readings) {
    const problem = readingProblem(reading, nowMs);
    if (problem === undefined) good.push(reading);
    else problems.push({ where: reading.target || 'reading', message: problem });
  }
  return { readings: good, problems };
}

const describeProblem = (problem: Problem): string => `${problem.where}: ${problem.message}`;

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
