import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Db } from '../store/db.js';

/** What one pass did, and whether it left work behind (more than a pass takes). */
export interface PassResult {
  readonly done: number;
  readonly more: boolean;
}

/** What a pass is given by the runner. */
export interface PassContext {
  /**
   * Takes these units of work (e.g. metering point ids) under a lease recorded in the database
   * and returns those this runner now holds: a unit leased by another runner whose lease has not
   * expired is left out. The leases end with the pass (or expire, should the process die).
   */
  lease(units: readonly string[]): Promise<string[]>;
}

export interface JobDefinition {
  readonly name: string;
  /** How long after a wake-up the pass starts, so a burst of wake-ups makes one pass. */
  readonly delayMs: number;
  /** Runs this often without being woken too (e.g. to pick up retries that come due). */
  readonly everyMs?: number;
  pass(context: PassContext): Promise<PassResult>;
  /**
   * When the oldest unit of work still waiting arrived, for the lag metric. Without it the lag
   * is measured from the first wake-up that no successful run has served yet.
   */
  waitingSince?(): Promise<Date | null>;
}

/** A registered job, as the composition root and tests hold it. */
export interface Job {
  readonly name: string;
  /** Asks for a run soon (after the job's delay, or after its backoff when it failed). */
  wake(): void;
  /** Runs passes now until one finds nothing left (tests, shutdown). */
  flush(): Promise<void>;
}

/** What a capability is given to wake its own job after a change (without holding the runner). */
export interface JobWaker {
  wake(name: string): void;
}

export interface RunnerOptions {
  /** Who holds the leases this runner takes (default: host, process id and a random part, new per runner). */
  holder?: string;
  /**
   * How long a lease lasts unless the pass ends first or renews it (default 1 minute). A pass
   * renews its leases every third of this while it runs, so only a dead (or frozen) holder's
   * leases expire; a job without a schedule of its own looks for work this often too, so what a
   * dead process left behind is taken up by the others.
   */
  leaseMs?: number;
  /**
   * Called once a pass holds new units, before it works on them (tests: a process stopped here
   * holds its leases, to be killed mid-job). Production leaves it out.
   */
  afterLease?: (job: string, units: readonly string[]) => Promise<void>;
  /** After the n-th failure in a row a job waits max(delay, retryFirstMs) × 2^(n−1), at most retryMaxMs. */
  retryFirstMs?: number;
  retryMaxMs?: number;
  /** Where runs, failures and lag are reported (`/metrics`). */
  registry?: Registry;
  log?: (line: string) => void;
  /** The clock lags and last passes are read on (tests; default Date.now). */
  now?: () => number;
  /**
   * At most this many passes at once in the process (default 4), the others waiting their turn:
   * twenty-odd jobs each holding a connection would take the whole PostgreSQL pool, and ingest,
   * the API and /health would wait behind them (measured: a restarted process, 10,000 devices).
   */
  concurrentPasses?: number;
}

export const DEFAULT_CONCURRENT_PASSES = 4;

/** Turns to run a pass: at most `size` at once, the others served first come, first served. */
class PassSlots {
  private readonly waiting: (() => void)[] = [];

  constructor(private free: number) {
    if (!Number.isInteger(free) || free < 1) throw new Error(`concurrent passes must be a positive whole number, not ${free}`);
  }

  async take(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}

/** How a job is doing, for the installation's health page. */
export interface JobStatus {
  readonly name: string;
  /** Seconds the oldest waiting work has waited (0: nothing waits). */
  readonly lagSeconds: number;
  /** Whether an operator paused it: it is not run until resumed, and its work waits. */
  readonly paused: boolean;
  readonly running: boolean;
  readonly failuresInRow: number;
  /** When its last pass ended (epoch ms), and its last successful one. */
  readonly lastPassAt: number | null;
  readonly lastSuccessAt: number | null;
  /** Its last failure, kept after later successes so an operator sees what went wrong. */
  readonly lastError: { readonly at: number; readonly message: string } | null;
}

interface JobMetrics {
  readonly runs: Counter<'job_name'>;
  readonly failures: Counter<'job_name'>;
  readonly duration: Histogram<'job_name'>;
}

/** A pass takes from a few milliseconds (nothing to do) to minutes (a year of intervals). */
const PASS_BUCKETS = [0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300];

/**
 * The one runner of background jobs: named jobs, each run after a wake-up and/or on a schedule,
 * never two passes of one job at once in a process, units of work leased in `job_leases` so
 * several processes on one PostgreSQL never do the same unit at once, a growing delay after
 * failures, and runs, failures and lag in `/metrics`.
 */
export class JobRunner implements JobWaker {
  readonly holder: string;
  private readonly jobs = new Map<string, ScheduledJob>();
  private readonly metrics: JobMetrics | undefined;
  private readonly slots: PassSlots;

  constructor(private readonly db: Db, private readonly options: RunnerOptions = {}) {
    this.holder = options.holder ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.slots = new PassSlots(options.concurrentPasses ?? DEFAULT_CONCURRENT_PASSES);
    const registers = options.registry ? [options.registry] : [];
    if (options.registry) {
      this.metrics = {
        runs: new Counter({ name: 'gridshare_job_runs_total', help: 'Passes of each background job', labelNames: ['job_name'], registers }),
        failures: new Counter({ name: 'gridshare_job_failures_total', help: 'Failed passes of each background job', labelNames: ['job_name'], registers }),
        duration: new Histogram({ name: 'gridshare_job_pass_duration_seconds', help: 'Duration of the passes of each background job', labelNames: ['job_name'], buckets: PASS_BUCKETS, registers }),
      };
      const jobs = this.jobs;
      new Gauge({
        name: 'gridshare_job_lag_seconds', help: 'Age of the oldest work a background job has not done yet (0: nothing waits)', labelNames: ['job_name'], registers,
        async collect() {
          for (const job of jobs.values()) this.set({ job_name: job.name }, await job.lagSeconds());
        },
      });
      new Gauge({
        name: 'gridshare_job_failures_in_row', help: 'Failures of each background job since its last successful pass', labelNames: ['job_name'], registers,
        collect() {
          for (const job of jobs.values()) this.set({ job_name: job.name }, job.failuresInRow);
        },
      });
      const timestamp = (name: string, help: string, pick: (job: ScheduledJob) => number | undefined) => new Gauge({
        name, help, labelNames: ['job_name'], registers,
        collect() {
          for (const job of jobs.values()) {
            const at = pick(job);
            if (at !== undefined) this.set({ job_name: job.name }, at / 1_000);
          }
        },
      });
      timestamp('gridshare_job_last_success_timestamp_seconds', 'When each background job last finished a pass without error (Unix time)', (job) => job.lastSuccessAt);
      timestamp('gridshare_job_last_failure_timestamp_seconds', 'When each background job last failed (Unix time); its message is in the log', (job) => job.lastFailureAt);
    }
  }

  register(definition: JobDefinition): Job {
    if (this.jobs.has(definition.name)) throw new Error(`a job named ${definition.name} is already registered`);
    const job = new ScheduledJob(definition, this.db, this.holder, this.options, this.metrics, this.slots);
    this.jobs.set(definition.name, job);
    return job;
  }

  wake(name: string): void {
    this.job(name).wake();
  }

  flush(name: string): Promise<void> {
    return this.job(name).flush();
  }

  /** Every job's state, in the order they were registered. */
  async status(): Promise<JobStatus[]> {
    return Promise.all([...this.jobs.values()].map((job) => job.status()));
  }

  /**
   * Stops running a job until `resume`: wake-ups are remembered (its lag grows) but no pass
   * starts; a pass under way ends first. Only this process's runner is paused.
   */
  pause(name: string): Promise<void> {
    return this.job(name).pause();
  }

  resume(name: string): void {
    this.job(name).resume();
  }

  has(name: string): boolean {
    return this.jobs.has(name);
  }

  /** Stops every schedule and waits for the passes under way. */
  async close(): Promise<void> {
    await Promise.all([...this.jobs.values()].map((job) => job.close()));
  }

  private job(name: string): ScheduledJob {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`no job named ${name}`);
    return job;
  }
}

export const DEFAULT_LEASE_MS = 60_000;

class ScheduledJob implements Job {
  private timer: NodeJS.Timeout | undefined;
  private readonly schedule: NodeJS.Timeout | undefined;
  /** Armed when a pass found units another holder leased: a look again once such a lease could have expired. */
  private recheck: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  /** No wake-up before this instant (epoch ms) after a failure. */
  private retryAt = 0;
  failuresInRow = 0;
  /** When a pass last ended well, and when one last failed (epoch ms). */
  lastSuccessAt: number | undefined;
  lastFailureAt: number | undefined;
  /** The first wake-up no run has served yet, and the one the run under way serves (epoch ms). */
  private pendingSince: number | undefined;
  private servingSince: number | undefined;
  private paused = false;
  private lastPassAt: number | null = null;
  private lastError: { at: number; message: string } | null = null;

  constructor(
    private readonly definition: JobDefinition,
    private readonly db: Db,
    private readonly holder: string,
    private readonly options: RunnerOptions,
    private readonly metrics: JobMetrics | undefined,
    private readonly slots: PassSlots,
  ) {
    // Work another process marked and then died before doing is found by this sweep: a job
    // without a schedule of its own looks for work once per lease period.
    this.schedule = setInterval(() => this.wake(), definition.everyMs ?? this.leaseMs);
    this.schedule.unref();
  }

  get name(): string {
    return this.definition.name;
  }

  private get leaseMs(): number {
    return this.options.leaseMs ?? DEFAULT_LEASE_MS;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  wake(): void {
    if (this.closed) return;
    this.pendingSince ??= this.now();
    if (this.timer || this.paused) return;
    const wait = Math.max(this.definition.delayMs, this.retryAt - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run(false);
    }, wait);
  }

  async flush(): Promise<void> {
    while (this.running) await this.running;
    await this.run(true);
  }

  async pause(): Promise<void> {
    this.paused = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    // The work that waited while paused is served now (its lag counted from when it arrived).
    if (this.pendingSince !== undefined) this.wake();
  }

  async status(): Promise<JobStatus> {
    return {
      name: this.name, lagSeconds: await this.lagSeconds(), paused: this.paused, running: this.running !== undefined,
      failuresInRow: this.failuresInRow, lastPassAt: this.lastPassAt, lastSuccessAt: this.lastSuccessAt ?? null, lastError: this.lastError,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.recheck);
    clearInterval(this.schedule);
    await this.running;
  }

  async lagSeconds(): Promise<number> {
    if (this.definition.waitingSince) {
      const since = await this.definition.waitingSince();
      return since ? Math.max(0, (this.now() - since.getTime()) / 1_000) : 0;
    }
    const since = Math.min(this.pendingSince ?? Infinity, this.servingSince ?? Infinity);
    return Number.isFinite(since) ? Math.max(0, (this.now() - since) / 1_000) : 0;
  }

  /**
   * Passes until one says nothing more waits (`drain`: until one finds nothing at all). A
   * failure is retried after a delay that doubles with every failure in a row.
   */
  private run(drain: boolean): Promise<void> {
    if (this.paused && !drain) return Promise.resolve();
    if (this.running) {
      // A timer armed by a wake-up the run under way already serves asks for nothing new.
      if (drain || this.pendingSince !== undefined) this.again = true;
      return this.running;
    }
    this.servingSince = this.pendingSince ?? this.now();
    this.pendingSince = undefined;
    this.running = (async () => {
      try {
        for (;;) {
          const { done, more } = await this.pass();
          if (done === 0 || this.closed || (!drain && !more)) break;
        }
      } catch (error) {
        this.failuresInRow += 1;
        this.lastFailureAt = this.now();
        this.metrics?.failures.inc({ job_name: this.name });
        const { retryFirstMs = 1_000, retryMaxMs = 60_000 } = this.options;
        const backoff = Math.min(Math.max(this.definition.delayMs, retryFirstMs) * 2 ** (this.failuresInRow - 1), retryMaxMs);
        this.retryAt = this.now() + backoff;
        this.lastError = { at: this.now(), message: (error as Error).message };
        (this.options.log ?? logToStderr)(`gridshare: ${this.name} failed (${this.failuresInRow} in a row), retry in ${backoff} ms: ${(error as Error).message}`);
        // The work it was serving still waits.
        this.pendingSince = Math.min(this.pendingSince ?? Infinity, this.servingSince ?? Infinity);
        this.wake();
      } finally {
        this.running = undefined;
        this.servingSince = undefined;
        if (this.again && !this.closed) {
          this.again = false;
          this.wake();
        }
      }
    })();
    return this.running;
  }

  private async pass(): Promise<PassResult> {
    await this.slots.take();
    try {
      // Closed while it waited for its turn: the database may be closing too.
      if (this.closed) return { done: 0, more: false };
      return await this.passInTurn();
    } finally {
      this.slots.give();
    }
  }

  private async passInTurn(): Promise<PassResult> {
    const leased = new Set<string>();
    const blocked = { any: false };
    this.metrics?.runs.inc({ job_name: this.name });
    const endTimer = this.metrics?.duration.startTimer({ job_name: this.name });
    // The leases live as long as the pass does: a long pass never loses its units to another process.
    const renewal = setInterval(() => void this.renew(leased), Math.max(1, Math.floor(this.leaseMs / 3)));
    try {
      const result = await this.definition.pass({ lease: (units) => this.lease(units, leased, blocked) });
      this.failuresInRow = 0;
      this.retryAt = 0;
      this.lastSuccessAt = this.now();
      return result;
    } finally {
      endTimer?.();
      clearInterval(renewal);
      this.lastPassAt = this.now();
      if (leased.size > 0) {
        await this.db.query('DELETE FROM job_leases WHERE job = $1 AND holder = $2 AND unit = ANY($3::text[])', [this.name, this.holder, [...leased]]);
      }
      if (blocked.any) this.lookAgainLater();
    }
  }

  /**
   * Units another holder leased are its work, unless it died: then its lease runs out within a
   * lease period (it is renewed while the holder lives), and this job looks again after that.
   */
  private lookAgainLater(): void {
    if (this.recheck || this.closed) return;
    this.recheck = setTimeout(() => {
      this.recheck = undefined;
      this.wake();
    }, this.leaseMs + 100);
    this.recheck.unref();
  }

  private async renew(leased: ReadonlySet<string>): Promise<void> {
    if (leased.size === 0) return;
    try {
      const rows = await this.db.query<{ unit: string }>(
        `UPDATE job_leases SET expires_at = now() + $4::float8 * interval '1 millisecond'
         WHERE job = $1 AND holder = $2 AND unit = ANY($3::text[]) RETURNING unit`,
        [this.name, this.holder, [...leased], this.leaseMs],
      );
      // Only a holder frozen longer than a lease can lose one; the passes are idempotent, so the
      // unit is at worst done twice, never lost.
      if (rows.length < leased.size) (this.options.log ?? logToStderr)(`gridshare: ${this.name}: ${leased.size - rows.length} leases ran out under a pass and were taken over`);
    } catch (error) {
      (this.options.log ?? logToStderr)(`gridshare: ${this.name}: leases not renewed: ${(error as Error).message}`);
    }
  }

  /**
   * One atomic upsert: a unit is taken when nobody holds it, its lease expired, or this runner
   * holds it already. On PostgreSQL a concurrent upsert of the same unit waits for the first and
   * then sees its live lease, so exactly one runner gets it.
   */
  private async lease(units: readonly string[], leased: Set<string>, blocked: { any: boolean }): Promise<string[]> {
    const wanted = [...new Set(units)];
    if (wanted.length === 0) return [];
    const rows = await this.db.query<{ unit: string }>(
      `INSERT INTO job_leases AS l (job, unit, holder, expires_at)
       SELECT $1, u, $2, now() + $4::float8 * interval '1 millisecond' FROM unnest($3::text[]) AS u ORDER BY u
       ON CONFLICT (job, unit) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
       WHERE l.expires_at <= now() OR l.holder = EXCLUDED.holder
       RETURNING unit`,
      [this.name, this.holder, wanted, this.leaseMs],
    );
    const taken = new Set(rows.map((row) => row.unit));
    const fresh = [...taken].filter((unit) => !leased.has(unit));
    for (const unit of taken) leased.add(unit);
    if (taken.size < wanted.length) blocked.any = true;
    if (fresh.length > 0 && this.options.afterLease) await this.options.afterLease(this.name, fresh);
    // In the order asked for, so a job's own order (oldest first) holds.
    return wanted.filter((unit) => taken.has(unit));
  }
}

const logToStderr = (line: string) => process.stderr.write(`${line}\n`);
