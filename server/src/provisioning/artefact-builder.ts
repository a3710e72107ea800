import { TooManyRequestsError } from '../kernel/errors.js';
import { runInWorker } from '../platform/workers/worker-thread.js';
import { run, type ArtefactJob, type BuildProgress, type BuiltBatch } from './artefact-worker.js';
import { run as drawStickers } from './sticker-worker.js';
import type { StickerSheet } from './domain/sticker-sheet.js';

const WORKER = new URL('./artefact-worker.ts', import.meta.url);
const STICKER_WORKER = new URL('./sticker-worker.ts', import.meta.url);
/** Up to this many devices (tens of milliseconds of work) are built at once, without starting a thread. */
const IN_PROCESS_MAX = 50;

/**
 * Builds batch artefacts in worker threads, one batch after another: each takes a whole core for
 * seconds, and the event loop (HTTP, MQTT ingest, the database) must keep the other. One account
 * has at most one batch in the making; a second request is refused rather than queued. Sticker
 * sheets are drawn in the same line, one after another, and queued: a download waits its turn.
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

  /** Draws a sticker sheet, handing the PDF to `onChunk` piece by piece; resolves once it is all out. */
  stickers(sheet: StickerSheet, onChunk: (chunk: Uint8Array) => void): Promise<void> {
    const drawn = this.queue.then(async () => {
      if (sheet.stickers.length <= IN_PROCESS_MAX) await drawStickers(sheet, onChunk);
      else await runInWorker<StickerSheet, null, Uint8Array>(STICKER_WORKER, sheet, onChunk);
    });
    this.queue = drawn.catch(() => undefined);
    return drawn;
  }
}
