// Worker entry: the solver thread is TypeScript, run through tsx like the CLI (bin/gridshare.js).
import { register } from 'tsx/esm/api';

register();
await import('./solver-thread.ts');
