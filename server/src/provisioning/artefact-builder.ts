import { TooManyRequestsError } from '../kernel/errors.js';
import { runInWorker } from '../platform/workers/worker-thread.js';
import { run, type ArtefactJob, type BuildProgress, type BuiltBatch } from './artefact-worker.js';

const WORKER = new URL('./artefact-worker.ts', import.meta.url);
/** Up to this many devices (tens of milliseconds of work) are built at once, without starting a thread. */
const IN_PROCESS_MAX = 50;

/**
 * Builds batch artefacts in worker threads, one batch after another: each takes a whole core for
 * seconds, and the event loop (HTTP, MQTT ingest, the database) must keep the other. One account
 * has at most one batch in the making; a second request is refused rather than queued.
 */
export class ArtefactBuilder {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly building = new Set<string>();

  build(userId: string, job: ArtefactJob, onProgress: (progress: BuildProgress) => void): Promise<BuiltBatch> {
    if (this.building.has(userId)) throw new TooManyRequestsError('a batch of yours is being provisioned; wait until it is done');
    this.building.add(userId);
    const built = this.queue.then(async () => job.ids.length <= IN_PROCESS_MAX
      ? (await run(job, onProgress)).value
      : runInWorker<ArtefactJob, BuiltBatch, BuildProgress>(WORKER, job, onProgress));
    this.queue = built.catch(() => undefined);
    return built.finally(() => this.building.delete(userId));
  }
}
