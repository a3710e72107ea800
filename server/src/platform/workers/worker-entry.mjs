// The entry of every worker thread: it compiles the TypeScript sources (tsx, as bin/gridshare.js
// does for the main thread), runs the named module's `run(input, progress)` and posts its result.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { run } = await import(workerData.module);
const { value, transfer } = await run(workerData.input, (progress) => parentPort.postMessage({ progress }));
parentPort.postMessage({ result: value }, transfer ?? []);
