import { randomUUID } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
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
  /** Who holds the leases this runner takes (default: a new random id per runner). */
  holder?: string;
  /** How long a lease lasts unless the pass ends first (default 5 minutes). */
  leaseMs?: number;
  /** After the n-th failure in a row a job waits max(delay, retryFirstMs) × 2^(n−1), at most retryMaxMs. */
  retryFirstMs?: number;
  retryMaxMs?: number;
  /** Where runs, failures and lag are reported (`/metrics`). */
  registry?: Registry;
  log?: (line: string) => void;
}

interface JobMetrics {
  readonly runs: Counter<'job'>;
  readonly failures: Counter<'job'>;
}

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

  constructor(private readonly db: Db, private readonly options: RunnerOptions = {}) {
    this.holder = options.holder ?? randomUUID();
    const registers = options.registry ? [options.registry] : [];
    if (options.registry) {
      this.metrics = {
        runs: new Counter({ name: 'gridshare_job_runs_total', help: 'Passes of each background job', labelNames: ['job'], registers }),
        failures: new Counter({ name: 'gridshare_job_failures_total', help: 'Failed passes of each background job', labelNames: ['job'], registers }),
      };
      const jobs = this.jobs;
      new Gauge({
        name: 'gridshare_job_lag_seconds', help: 'Age of the oldest work a background job has not done yet (0: nothing waits)', labelNames: ['job'], registers,
        async collect() {
          for (const job of jobs.values()) this.set({ job: job.name }, await job.lagSeconds());
        },
      });
      new Gauge({
        name: 'gridshare_job_failures_in_row', help: 'Failures of each background job since its last successful pass', labelNames: ['job'], registers,
        collect() {
          for (const job of jobs.values()) this.set({ job: job.name }, job.failuresInRow);
        },
      });
    }
  }

  register(definition: JobDefinition): Job {
    if (this.jobs.has(definition.name)) throw new Error(`a job named ${definition.name} is already registered`);
    const job = new ScheduledJob(definition, this.db, this.holder, this.options, this.metrics);
    this.jobs.set(definition.name, job);
    return job;
  }

  wake(name: string): void {
    this.job(name).wake();
  }

  flush(name: string): Promise<void> {
    return this.job(name).flush();
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

class ScheduledJob implements Job {
  private timer: NodeJS.Timeout | undefined;
  private readonly schedule: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  /** No wake-up before this instant (epoch ms) after a failure. */
  private retryAt = 0;
  failuresInRow = 0;
  /** The first wake-up no run has served yet, and the one the run under way serves (epoch ms). */
  private pendingSince: number | undefined;
  private servingSince: number | undefined;

  constructor(
    private readonly definition: JobDefinition,
    private readonly db: Db,
    private readonly holder: string,
    private readonly options: RunnerOptions,
    private readonly metrics: JobMetrics | undefined,
  ) {
    if (definition.everyMs) {
      this.schedule = setInterval(() => this.wake(), definition.everyMs);
      this.schedule.unref();
    }
  }

  get name(): string {
    return this.definition.name;
  }

  wake(): void {
    if (this.closed) return;
    this.pendingSince ??= Date.now();
    if (this.timer) return;
    const wait = Math.max(this.definition.delayMs, this.retryAt - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run(false);
    }, wait);
  }

  async flush(): Promise<void> {
    while (this.running) await this.running;
    await this.run(true);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.schedule);
    await this.running;
  }

  async lagSeconds(): Promise<number> {
    if (this.definition.waitingSince) {
      const since = await this.definition.waitingSince();
      return since ? Math.max(0, (Date.now() - since.getTime()) / 1_000) : 0;
    }
    const since = Math.min(this.pendingSince ?? Infinity, this.servingSince ?? Infinity);
    return Number.isFinite(since) ? (Date.now() - since) / 1_000 : 0;
  }

  /**
   * Passes until one says nothing more waits (`drain`: until one finds nothing at all). A
   * failure is retried after a delay that doubles with every failure in a row.
   */
  private run(drain: boolean): Promise<void> {
    if (this.running) {
      // A timer armed by a wake-up the run under way already serves asks for nothing new.
      if (drain || this.pendingSince !== undefined) this.again = true;
      return this.running;
    }
    this.servingSince = this.pendingSince ?? Date.now();
    this.pendingSince = undefined;
    this.running = (async () => {
      try {
        for (;;) {
          const { done, more } = await this.pass();
          if (done === 0 || this.closed || (!drain && !more)) break;
        }
      } catch (error) {
        this.failuresInRow += 1;
        this.metrics?.failures.inc({ job: this.name });
        const { retryFirstMs = 1_000, retryMaxMs = 60_000 } = this.options;
        const backoff = Math.min(Math.max(this.definition.delayMs, retryFirstMs) * 2 ** (this.failuresInRow - 1), retryMaxMs);
        this.retryAt = Date.now() + backoff;
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
    const leased = new Set<string>();
    this.metrics?.runs.inc({ job: this.name });
    try {
      const result = await this.definition.pass({ lease: (units) => this.lease(units, leased) });
      this.failuresInRow = 0;
      this.retryAt = 0;
      return result;
    } finally {
      if (leased.size > 0) {
        await this.db.query('DELETE FROM job_leases WHERE job = $1 AND holder = $2 AND unit = ANY($3::text[])', [this.name, this.holder, [...leased]]);
      }
    }
  }

  /**
   * One atomic upsert: a unit is taken when nobody holds it, its lease expired, or this runner
   * holds it already. On PostgreSQL a concurrent upsert of the same unit waits for the first and
   * then sees its live lease, so exactly one runner gets it.
   */
  private async lease(units: readonly string[], leased: Set<string>): Promise<string[]> {
    const wanted = [...new Set(units)];
    if (wanted.length === 0) return [];
    const rows = await this.db.query<{ unit: string }>(
      `INSERT INTO job_leases AS l (job, unit, holder, expires_at)
       SELECT $1, u, $2, now() + $4::float8 * interval '1 millisecond' FROM unnest($3::text[]) AS u ORDER BY u
       ON CONFLICT (job, unit) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
       WHERE l.expires_at <= now() OR l.holder = EXCLUDED.holder
       RETURNING unit`,
      [this.name, this.holder, wanted, this.options.leaseMs ?? 300_000],
    );
    const taken = new Set(rows.map((row) => row.unit));
    for (const unit of taken) leased.add(unit);
    // In the order asked for, so a job's own order (oldest first) holds.
    return wanted.filter((unit) => taken.has(unit));
  }
}

const logToStderr = (line: string) => process.stderr.write(`${line}\n`);
