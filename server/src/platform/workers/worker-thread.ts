import { Worker } from 'node:worker_threads';

/** What a worker module's `run` returns: its result and the buffers to move (not copy) to the caller. */
export interface WorkerOutput<O> {
  readonly value: O;
  readonly transfer?: ArrayBuffer[];
}

/** The shape of a module run in a worker thread (see worker-entry.mjs). */
export type WorkerModule<I, O, P> = { run(input: I, progress: (progress: P) => void): Promise<WorkerOutput<O>> };

const ENTRY = new URL('./worker-entry.mjs', import.meta.url);

/**
 * Runs CPU-heavy work off the event loop: `module`'s `run(input)` in a new worker thread, so HTTP,
 * MQTT and the database keep being served meanwhile. Progress messages arrive as they are posted.
 */
export function runInWorker<I, O, P>(module: URL, input: I, onProgress: (progress: P) => void = () => undefined): Promise<O> {
  return new Promise<O>((resolve, reject) => {
    const worker = new Worker(ENTRY, { workerData: { module: module.href, input } });
    let settled = false;
    worker.on('message', (message: { progress: P } | { result: O }) => {
      if ('progress' in message) {
        onProgress(message.progress);
        return;
      }
      settled = true;
      resolve(message.result);
      void worker.terminate();
    });
    worker.once('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`worker ${module.pathname} stopped (exit code ${code}) without a result`));
    });
  });
}
