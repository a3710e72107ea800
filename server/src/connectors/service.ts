import { randomUUID } from 'node:crypto';
import type { Principal } from '../kernel/principal.js';
import { BadRequestError, ConflictError, NotFoundError } from '../kernel/errors.js';
import { MESSAGE_LIMITS, validateReadings } from '../readings/index.js';
import type { Reading } from '../kernel/quantities.js';
import type { Db, Queryable } from '../platform/store/db.js';
import { conflictOnDuplicate } from '../platform/store/errors.js';
import type { EventPublisher } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import type { PassContext, PassResult } from '../platform/jobs/index.js';
import { requireManager, requireUser } from '../accounts/index.js';
import { ingestDevice, requireCommunityManager } from '../registry/index.js';
import type { AuthenticatedDevice, IngestService } from '../ingest/index.js';
import { sealedPlace, type SecretBox } from '../secrets/index.js';
import { bindingProblems, nextRunAt, readingsByDevice, splitSecrets, withSecrets, type Binding, type SecretValues } from './domain/instances.js';
import type { Problem, TargetReading } from './domain/readings.js';
import { checkConfig, controlConnector, finishConnector, runConnector, testConnector, type TestReport } from './harness.js';
import { getKind, instanceKindNames, type RegisteredKind } from './registry.js';
import { secretPaths, validateAgainst } from './schema.js';
import {
  claimInstance, deleteInstance, dueInstanceIds, insertInstance, instanceById, instancesOfCommunity, oldestDue, recentRuns, recordRun, runSoon, RUNS_KEPT,
  saveState, updateInstance, type InstanceFields, type InstanceRecord, type Outcome, type RunRecord,
} from './store.js';

/**
 * Connector instances: a community's manager adds, changes, tests and removes them; the
 * `connectors` job runs the due ones (leased per instance, several at once), stores their bound
 * readings through ingest (the path devices take: validation, bounds, idempotent storage,
 * interval marks), saves their state, then lets the kind finish (rename the files it read).
 */
export const CONNECTORS_JOB = 'connectors';
/** Instances run at once by one process; the rest wait for the next pass. */
export const DEFAULT_CONCURRENCY = 32;
const DEFAULT_INTERVAL_S = 300;
/** How long to wait before running an instance again after it was stopped by a shutdown. */
const SOON_MS = 1_000;
/** A pass waits this long at most for the runs under way before it ends. */
const PASS_WAIT_MS = 1_000;
/** A run holds its instance for its timeout and this much more (storing, finishing). */
const CLAIM_MARGIN_MS = 60_000;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export interface ConnectorInput {
  readonly kind: string;
  readonly name: string;
  readonly config: unknown;
  readonly bindings?: readonly Binding[] | undefined;
  readonly enabled?: boolean | undefined;
  readonly intervalS?: number | undefined;
  readonly jitterS?: number | undefined;
  readonly timeoutMs?: number | null | undefined;
}
export type ConnectorChange = Partial<Omit<ConnectorInput, 'kind'>>;

/** An instance as a manager sees it: never a secret, only which secret fields are set. */
export interface ConnectorView {
  id: string;
  communityId: string;
  kind: string;
  name: string;
  config: unknown;
  secretsSet: string[];
  bindings: Binding[];
  enabled: boolean;
  intervalS: number;
  jitterS: number;
  timeoutMs: number | null;
  createdAt: string;
  updatedAt: string;
  status: {
    nextRunAt: string | null; lastRunAt: string | null; lastSuccessAt: string | null; lastOutcome: Outcome | null;
    readingsStored: number; lastError: { code: string; message: string } | null; failuresInRow: number;
  };
}

export interface RunView {
  startedAt: string;
  durationMs: number;
  outcome: Outcome;
  readingsStored: number;
  error: { code: string; message: string } | null;
  problems: Problem[];
}

export interface KindView {
  name: string;
  summary: string;
  configSchema: unknown;
  commandSchema: unknown;
  secretFields: string[];
  defaultTimeoutMs: number;
}

export interface ConnectorServiceOptions {
  readonly db: Db;
  readonly secrets: SecretBox;
  /** Ingest's write path, as devices' messages take it. */
  readonly ingest: IngestService;
  /** Asks the `connectors` job for a pass soon (after a change or a run-now). */
  readonly wake: () => void;
  /** Connectors created, changed, switched and deleted go on the audit trail, in their own transaction. */
  readonly events: EventPublisher;
  readonly concurrency?: number;
  readonly now?: () => number;
  readonly random?: () => number;
  /** Told of every finished run (the operator's metrics). */
  readonly onRun?: (run: { kind: string; outcome: Outcome; durationMs: number }) => void;
}

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;
/**
 * A connector as the trail keeps it: its settings (secrets are never in `config`; `secretsSet`
 * says which are set), not its run status, which changes with every run and is no one's doing.
 */
const trailedConnector = ({ status: _status, updatedAt: _updatedAt, ...settings }: ConnectorView) => settings;
/** What the store keeps of a reading (no target: the device is the target). */
const reading = ({ ts, quantity, value, unit }: TargetReading): Reading => ({ ts, quantity, value, unit });

export class ConnectorService {
  private readonly db: Db;
  private readonly now: () => number;
  private readonly random: () => number;
  readonly concurrency: number;
  /** Stops the runs under way at shutdown. */
  private readonly stopping = new AbortController();
  /** Runs under way in this process, by instance. */
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(private readonly options: ConnectorServiceOptions) {
    this.db = options.db;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  }

  kinds(principal: Principal): KindView[] {
    requireUser(principal);
    return instanceKindNames().map((name) => {
      const kind = getKind(name)!;
      return {
        name, summary: kind.summary, configSchema: kind.configSchema, commandSchema: kind.commandSchema ?? null,
        secretFields: secretPaths(kind.configSchema), defaultTimeoutMs: kind.defaultTimeoutMs,
      };
    });
  }

  async list(principal: Principal, communityId: string): Promise<ConnectorView[]> {
    await requireCommunityManager(this.db, principal, communityId);
    return (await instancesOfCommunity(this.db, communityId)).map((instance) => this.view(instance));
  }

  async get(principal: Principal, id: string): Promise<ConnectorView> {
    return this.view(await this.managed(principal, id));
  }

  async create(principal: Principal, communityId: string, input: ConnectorInput): Promise<ConnectorView> {
    const user = await requireCommunityManager(this.db, principal, communityId);
    const kind = knownKind(input.kind);
    const id = randomUUID();
    const fields = await this.fields(communityId, kind, id, {
      name: input.name, config: input.config, bindings: input.bindings ?? [], enabled: input.enabled ?? true,
      intervalS: input.intervalS ?? DEFAULT_INTERVAL_S, jitterS: input.jitterS ?? 0, timeoutMs: input.timeoutMs ?? null,
    }, {});
    const created = await conflictOnDuplicate(`a connector named "${input.name}" exists in this community`, () =>
      this.options.events.transaction(this.db, async (tx, publish) => {
        await insertInstance(tx, id, communityId, kind.name, user.userId, fields);
        const after = this.view((await instanceById(tx, id))!);
        await recordChange(publish, { kind: 'connector', communityId, resourceId: id, action: 'create', before: null, after: trailedConnector(after) });
        return after;
      }));
    if (fields.enabled) this.options.wake();
    return created;
  }

  async update(principal: Principal, id: string, change: ConnectorChange): Promise<ConnectorView> {
    const instance = await this.managed(principal, id);
    const kind = knownKind(instance.kind);
    const stored = this.secretsOf(instance);
    const fields = await this.fields(instance.communityId, kind, id, {
      name: change.name ?? instance.name,
      config: change.config === undefined ? withSecrets(instance.config, stored) : change.config,
      bindings: change.bindings ?? instance.bindings,
      enabled: change.enabled ?? instance.enabled,
      intervalS: change.intervalS ?? instance.intervalS,
      jitterS: change.jitterS ?? instance.jitterS,
      timeoutMs: change.timeoutMs === undefined ? instance.timeoutMs : change.timeoutMs,
    }, stored);
    const again = change.config !== undefined || change.bindings !== undefined || (fields.enabled && !instance.enabled);
    const updated = await conflictOnDuplicate(`a connector named "${fields.name}" exists in this community`, () =>
      this.options.events.transaction(this.db, async (tx, publish) => {
        await updateInstance(tx, id, fields, again);
        const after = this.view((await instanceById(tx, id))!);
        // Switching a connector on or off is what operators look for; any other change is an update.
        const action = fields.enabled === instance.enabled ? 'update' : fields.enabled ? 'enable' : 'disable';
        // A replaced secret shows by its path alone, so a new password with nothing else changed is on the trail too.
        const next = fields.sealedSecrets === null ? {} : JSON.parse(this.options.secrets.open(fields.sealedSecrets, secretsPlace(id))) as SecretValues;
        const replaced = Object.keys(next).filter((path) => JSON.stringify(next[path]) !== JSON.stringify(stored[path])).sort();
        await recordChange(publish, {
          kind: 'connector', communityId: instance.communityId, resourceId: id, action, before: trailedConnector(this.view(instance)),
          after: { ...trailedConnector(after), ...(replaced.length > 0 ? { replacedConfidentialFields: replaced } : {}) },
        });
        return after;
      }));
    if (again && fields.enabled) this.options.wake();
    return updated;
  }

  async remove(principal: Principal, id: string): Promise<void> {
    const instance = await this.managed(principal, id);
    await this.options.events.transaction(this.db, async (tx, publish) => {
      await deleteInstance(tx, id);
      await recordChange(publish, { kind: 'connector', communityId: instance.communityId, resourceId: id, action: 'delete', before: trailedConnector(this.view(instance)), after: null });
    });
  }

  async runs(principal: Principal, id: string): Promise<RunView[]> {
    await this.managed(principal, id);
    return (await recentRuns(this.db, id, RUNS_KEPT)).map(runView);
  }

  async runNow(principal: Principal, id: string): Promise<ConnectorView> {
    const instance = await this.managed(principal, id);
    if (!instance.enabled) throw new ConflictError('the connector is disabled: enable it first');
    await runSoon(this.db, id, new Date(this.now()));
    this.options.wake();
    return this.view((await instanceById(this.db, id))!);
  }

  /**
   * The dry run: the configuration as given (with `connectorId`, the secrets it leaves out are
   * that connector's), read once; nothing is stored, moved or remembered.
   */
  async test(principal: Principal, communityId: string, input: { kind: string; config: unknown; connectorId?: string | undefined; limit?: number | undefined }): Promise<TestReport> {
    await requireCommunityManager(this.db, principal, communityId);
    knownKind(input.kind);
    let config = input.config;
    if (input.connectorId !== undefined) {
      const instance = await instanceById(this.db, input.connectorId);
      if (!instance || instance.communityId !== communityId) throw new NotFoundError('connector');
      if (instance.kind === input.kind) config = keptSecrets(getKind(input.kind)!, config, this.secretsOf(instance));
    }
    return testConnector(input.kind, config, { limit: input.limit, signal: this.stopping.signal });
  }

  /** Writes a setpoint (modbus-sunspec power or battery limits) and keeps the state the kind returns. */
  async command(principal: Principal, id: string, command: unknown): Promise<{ ok: boolean; written: readonly string[]; error: { code: string; message: string } | null }> {
    const instance = await this.managed(principal, id);
    const kind = knownKind(instance.kind);
    if (!kind.control || !kind.commandSchema) throw new BadRequestError(`connector kind ${kind.name} takes no commands`, 'body/command');
    const checked = validateAgainst(kind.commandSchema, command);
    if ('problems' in checked) throw new BadRequestError(`command: ${checked.problems.join('; ')}`, 'body/command');
    const config = withSecrets(instance.config, this.secretsOf(instance));
    const report = await controlConnector(instance.kind, config, instance.state, checked.value, {
      timeoutMs: instance.timeoutMs ?? undefined, signal: this.stopping.signal, now: this.now,
    });
    if (report.ok) await saveState(this.db, id, report.state);
    return { ok: report.ok, written: report.written, error: report.error ?? null };
  }

  /**
   * One pass of the `connectors` job: the due instances not already running here are leased and
   * started (at most `concurrency` at once in this process). The pass waits for the runs under way
   * only up to `PASS_WAIT_MS`, so a hanging source (until its timeout) never holds up the instances
   * that come due meanwhile; each run holds its instance by a claim in the store (see claimInstance).
   * It reports the runs it started and those still under way, so a flush waits for all of them.
   */
  async runDue(context: PassContext): Promise<PassResult> {
    const free = this.concurrency - this.running.size;
    let started = 0;
    if (free > 0 && !this.stopping.signal.aborted) {
      const due = (await dueInstanceIds(this.db, new Date(this.now()), free + this.running.size)).filter((id) => !this.running.has(id)).slice(0, free);
      for (const id of await context.lease(due)) {
        if (await this.start(id)) started += 1;
      }
    }
    if (this.running.size > 0) await Promise.race([Promise.all(this.running.values()), delay(PASS_WAIT_MS)]);
    return { done: started + this.running.size, more: false };
  }

  /** Claims the instance and runs it in the background; false when it was not due any more or another process has it. */
  private async start(id: string): Promise<boolean> {
    const instance = await instanceById(this.db, id);
    if (!instance || !instance.enabled || this.stopping.signal.aborted) return false;
    const kind = getKind(instance.kind);
    const now = this.now();
    const until = now + (instance.timeoutMs ?? kind?.defaultTimeoutMs ?? 60_000) + CLAIM_MARGIN_MS;
    if (!(await claimInstance(this.db, id, new Date(now), new Date(until)))) return false;
    const run = this.runInstance(instance)
      .catch((error: Error) => process.stderr.write(`gridshare: connector ${id} run not recorded: ${error.message}\n`))
      .finally(() => this.running.delete(id));
    this.running.set(id, run);
    return true;
  }

  async waitingSince(): Promise<Date | null> {
    return oldestDue(this.db, new Date(this.now()));
  }

  /** Stops the runs under way and waits until they are recorded (an `aborted` failure: they run again soon after a restart). */
  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.running.values());
  }

  /**
   * One run of one instance: read, store the bound readings through ingest, save the state and
   * status, then let the kind finish. Never throws for the source's faults: they are the status.
   */
  private async runInstance(instance: InstanceRecord): Promise<void> {
    const { id } = instance;
    const config = withSecrets(instance.config, this.secretsOf(instance));
    const report = await runConnector(instance.kind, config, instance.state, {
      timeoutMs: instance.timeoutMs ?? undefined, signal: this.stopping.signal, now: this.now,
    });
    const problems = [...report.problems];
    let stored = 0;
    let error: { code: string; message: string } | null = report.error ?? null;
    if (report.readings.length > 0) {
      try {
        const result = await this.storeReadings(instance, report.readings);
        stored = result.stored;
        problems.push(...result.problems);
      } catch (storeError) {
        error = { code: 'store', message: `the readings could not be stored: ${(storeError as Error).message}` };
      }
    }
    const failed = report.outcome === 'failed' || error?.code === 'store' || (report.readings.length > 0 && stored === 0 && problems.length > report.problems.length);
    const outcome: Outcome = failed ? 'failed' : problems.length > 0 ? 'partial' : 'ok';
    if (failed && error === null) error = { code: 'store', message: describe(problems.at(-1)!) };
    const failuresInRow = failed ? instance.status.failuresInRow + 1 : 0;
    const endedAt = this.now();
    const aborted = error?.code === 'aborted';
    const next = aborted
      ? endedAt + SOON_MS
      : nextRunAt({ endedAt, intervalS: instance.intervalS, jitterS: instance.jitterS, failuresInRow, more: report.more, random: this.random() });
    await this.db.transaction((tx) => recordRun(tx, id, {
      startedAt: new Date(report.startedAt), durationMs: report.durationMs, outcome, readingsStored: stored,
      errorCode: error?.code ?? null, errorMessage: error?.message ?? null, problems: problems.slice(0, 20),
      nextRunAt: new Date(next), failuresInRow: aborted ? instance.status.failuresInRow : failuresInRow,
      // A failed store keeps the old state, so the next run reads the same data again.
      state: failed ? undefined : report.state,
    }));
    this.options.onRun?.({ kind: instance.kind, outcome, durationMs: report.durationMs });
    if (!failed) {
      const finish = await finishConnector(instance.kind, config, report.state, { signal: this.stopping.signal, now: this.now });
      if (finish.ok) await saveState(this.db, id, finish.state);
    }
    // A batch limit left more to read: the next pass need not wait for the schedule.
    if (report.more && !failed) this.options.wake();
  }

  /** The readings of each bound target go in as their device's, through ingest's one write path. */
  private async storeReadings(instance: InstanceRecord, readings: readonly TargetReading[]): Promise<{ stored: number; problems: Problem[] }> {
    const { byDevice, unbound } = readingsByDevice(readings, instance.bindings);
    const problems: Problem[] = unbound.map((target) => ({ where: target, message: 'bound to no device: its readings are not stored' }));
    let stored = 0;
    for (const [deviceId, deviceReadings] of byDevice) {
      const device = await ingestDevice(this.db, deviceId);
      if (!device || device.communityId !== instance.communityId) {
        problems.push({ where: deviceId, message: 'the bound device no longer exists in this community' });
        continue;
      }
      if (device.status !== 'active') {
        problems.push({ where: deviceId, message: 'the bound device is disabled: its readings are not stored' });
        continue;
      }
      // One reading a device would be refused for (too old, out of range) must not take the others with it.
      const good: Reading[] = [];
      for (const r of deviceReadings) {
        try {
          good.push(...validateReadings({ readings: [reading(r)] }));
        } catch (rejected) {
          problems.push({ where: `${r.target} ${r.ts} ${r.quantity}`, message: (rejected as Error).message });
        }
      }
      const source: AuthenticatedDevice = { id: device.id, communityId: device.communityId, meteringPointId: device.meteringPointId, boundFrom: device.boundFrom };
      for (let i = 0; i < good.length; i += MESSAGE_LIMITS.maxReadings) {
        const outcome = await this.options.ingest.ingestJson(source, { parsed: { readings: good.slice(i, i + MESSAGE_LIMITS.maxReadings) } });
        if (outcome.status === 'stored') stored += outcome.result.stored;
        else problems.push({ where: deviceId, message: `refused by ingest (${outcome.rejection.code}): ${outcome.rejection.message}` });
      }
    }
    return { stored, problems };
  }

  /** The instance, if the caller manages its community (members 403, others 404). */
  private async managed(principal: Principal, id: string): Promise<InstanceRecord> {
    requireUser(principal);
    const instance = await instanceById(this.db, id);
    if (!instance) throw new NotFoundError('connector');
    requireManager(principal, instance.communityId, 'connector');
    return instance;
  }

  /** Checks what a manager gave and seals its secrets for the instance `id`. */
  private async fields(communityId: string, kind: RegisteredKind, id: string, input: Omit<InstanceFields, 'sealedSecrets'>, stored: SecretValues): Promise<InstanceFields> {
    const config = keptSecrets(kind, input.config, stored);
    const checked = checkConfig(kind.name, config);
    if ('error' in checked) throw new BadRequestError(checked.error.message, 'body/config');
    if (input.jitterS > input.intervalS) throw new BadRequestError('the jitter must not exceed the interval', 'body/jitterS');
    const problems = bindingProblems(input.bindings);
    if (problems.length > 0) throw new BadRequestError(problems.join('; '), 'body/bindings');
    for (const binding of input.bindings) {
      const device = await ingestDevice(this.db, binding.deviceId);
      // A device of another community is not named to a manager who may not know it exists.
      if (!device || device.communityId !== communityId) throw new NotFoundError(`device ${binding.deviceId}`);
    }
    const split = splitSecrets(secretPaths(kind.configSchema), checked.config);
    const sealed = Object.keys(split.secrets).length === 0 ? null : this.options.secrets.seal(JSON.stringify(split.secrets), secretsPlace(id));
    return { ...input, config: split.config, sealedSecrets: sealed };
  }

  private secretsOf(instance: InstanceRecord): SecretValues {
    if (instance.sealedSecrets === null) return {};
    return JSON.parse(this.options.secrets.open(instance.sealedSecrets, secretsPlace(instance.id))) as SecretValues;
  }

  private view(instance: InstanceRecord): ConnectorView {
    const { status } = instance;
    return {
      id: instance.id, communityId: instance.communityId, kind: instance.kind, name: instance.name, config: instance.config,
      secretsSet: Object.keys(this.secretsOf(instance)).sort(), bindings: instance.bindings, enabled: instance.enabled,
      intervalS: instance.intervalS, jitterS: instance.jitterS, timeoutMs: instance.timeoutMs,
      createdAt: instance.createdAt.toISOString(), updatedAt: instance.updatedAt.toISOString(),
      status: {
        nextRunAt: instance.enabled ? iso(status.nextRunAt) : null, lastRunAt: iso(status.lastRunAt), lastSuccessAt: iso(status.lastSuccessAt),
        lastOutcome: status.lastOutcome, readingsStored: status.readingsStored,
        lastError: status.lastErrorCode === null ? null : { code: status.lastErrorCode, message: status.lastErrorMessage ?? '' },
        failuresInRow: status.failuresInRow,
      },
    };
  }
}

/**
 * Adds an instance without a principal, for seeding (the demo community): checked as a
 * manager's would be, without secrets (nothing here seals them), due at once.
 */
export async function addConnector(db: Queryable, input: { communityId: string; kind: string; name: string; config: unknown; bindings: readonly Binding[]; intervalS: number }): Promise<string> {
  const checked = checkConfig(input.kind, input.config);
  if ('error' in checked) throw new BadRequestError(checked.error.message, 'config');
  if (Object.keys(splitSecrets(secretPaths(checked.kind.configSchema), checked.config).secrets).length > 0) throw new BadRequestError('a seeded connector takes no secrets', 'config');
  const id = randomUUID();
  await insertInstance(db, id, input.communityId, input.kind, null, {
    name: input.name, config: checked.config, sealedSecrets: null, bindings: input.bindings, enabled: true, intervalS: input.intervalS, jitterS: 0, timeoutMs: null,
  });
  return id;
}

const secretsPlace = (id: string) => sealedPlace('connector_instances', 'secrets', id);

function knownKind(name: string): RegisteredKind {
  const kind = getKind(name);
  if (!kind) throw new BadRequestError(`unknown connector kind "${name}" (known: ${instanceKindNames().join(', ')})`, 'body/kind');
  if (kind.runsOn === 'device') throw new BadRequestError(`connector kind "${name}" reads hardware next to it and runs in gridshare agent on the device, not on the platform`, 'body/kind');
  return kind;
}

/**
 * The configuration with each stored secret it leaves out put back, where that fits it: a
 * secret of a choice the manager has since changed (bearer → basic) is dropped, not forced in.
 */
function keptSecrets(kind: RegisteredKind, config: unknown, stored: SecretValues): unknown {
  let merged = config;
  let count = problemCount(kind, merged);
  for (const [pointer, value] of Object.entries(stored)) {
    const candidate = withSecrets(merged, { [pointer]: value });
    const candidateCount = problemCount(kind, candidate);
    if (candidateCount <= count) {
      merged = candidate;
      count = candidateCount;
    }
  }
  return merged;
}

function problemCount(kind: RegisteredKind, config: unknown): number {
  const checked = validateAgainst(kind.configSchema, config);
  return 'problems' in checked ? checked.problems.length : 0;
}

const describe = (problem: Problem) => `${problem.where}: ${problem.message}`;

function runView(run: RunRecord): RunView {
  return {
    startedAt: run.startedAt.toISOString(), durationMs: run.durationMs, outcome: run.outcome, readingsStored: run.readingsStored,
    error: run.errorCode === null ? null : { code: run.errorCode, message: run.errorMessage ?? '' }, problems: run.problems,
  };
}
