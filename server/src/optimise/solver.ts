import { Worker } from 'node:worker_threads';
import type { MilpModel } from './domain/model.js';
import type { SolveResult, SolveSettings, WarmStart } from './domain/solve-report.js';
import type { SolveRequest, SolveResponse } from './solver-protocol.js';

/**
 * The solver runner: HiGHS in a worker thread (one model at a time; further solves queue), so
 * the event loop never blocks on a solve. A solve that outlives its time limit by more than
 * the grace period (HiGHS stuck in a long LP) ends the worker; the next solve starts a new one.
 */
export const DEFAULT_SETTINGS: SolveSettings = { timeLimitS: 30, relativeGap: 0.005, absoluteGap: 1 };

/** Time the worker gets beyond the limit to finish presolve, rounding and the answer. */
const GRACE_MS = 60_000;

interface Pending {
  readonly resolve: (result: SolveResult) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class SolverError extends Error {}

export class Solver {
  private worker: Worker | undefined;
  private ready: Promise<Worker> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private queue: Promise<unknown> = Promise.resolve();

  /** Solves one model; solves queue behind each other in the one worker. */
  solve(model: MilpModel, settings: Partial<SolveSettings> = {}, warmStart?: WarmStart): Promise<SolveResult> {
    const full: SolveSettings = { ...DEFAULT_SETTINGS, ...settings };
    const run = this.queue.then(() => this.send(model, full, warmStart));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (worker) await worker.terminate();
  }

  private start(): Promise<Worker> {
    this.ready ??= new Promise<Worker>((resolve, reject) => {
      const worker = new Worker(new URL('./solver-worker.mjs', import.meta.url));
      worker.unref();
      const fail = (error: Error) => {
        if (this.worker === worker) {
          this.worker = undefined;
          this.ready = undefined;
        }
        reject(error);
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new SolverError(`solver thread failed: ${error.message}`));
          this.pending.delete(id);
        }
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new SolverError(`solver thread exited (${code})`)));
      worker.on('message', (message: SolveResponse | { ready: true }) => {
        if ('ready' in message) {
          this.worker = worker;
          resolve(worker);
          return;
        }
        const p = this.pending.get(message.id);
        if (!p) return;
        clearTimeout(p.timer);
        this.pending.delete(message.id);
        if ('error' in message) p.reject(new SolverError(message.error));
        else p.resolve(message.result);
      });
    });
    return this.ready;
  }

  private async send(model: MilpModel, settings: SolveSettings, warmStart: WarmStart | undefined): Promise<SolveResult> {
    const worker = await this.start();
    const id = this.nextId++;
    const request: SolveRequest = { id, model, settings, warmStart };
    return new Promise<SolveResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SolverError(`the solver did not answer within ${settings.timeLimitS} s + ${GRACE_MS / 1000} s; its thread was stopped`));
        void this.close();
      }, settings.timeLimitS * 1000 + GRACE_MS);
      this.pending.set(id, { resolve, reject, timer });
      worker.ref();
      // The model's arrays are copied, not transferred: the caller keeps its model to read the plan.
      worker.postMessage(request);
    }).finally(() => {
      if (this.pending.size === 0) this.worker?.unref();
    });
  }
}

/** One solve in a fresh worker, for one-off use (the CLI, tests). */
export async function solveOnce(model: MilpModel, settings: Partial<SolveSettings> = {}, warmStart?: WarmStart): Promise<SolveResult> {
  const solver = new Solver();
  try {
    return await solver.solve(model, settings, warmStart);
  } finally {
    await solver.close();
  }
}
