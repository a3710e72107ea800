// Type-checks the four TypeScript programs at once: one tsc uses one core, and one after another
// they left the CI machine's second core idle for the whole type-check. Each program's output is
// printed once it finishes, under its name, so the errors do not interleave. Each keeps what it
// checked in node_modules/.cache/tsc (tsc --incremental): a run re-checks only the files that
// changed and those depending on them; a fresh clone checks everything.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
const cache = join(root, 'node_modules/.cache/tsc');
const programs = ['server', 'web/e2e', 'web', 'contract'].map((project) =>
  ['-p', project, '--noEmit', '--incremental', '--tsBuildInfoFile', join(cache, `${project.replace('/', '-')}.tsbuildinfo`)]);

const results = await Promise.all(programs.map((args) => new Promise((resolve) => {
  const child = spawn(process.execPath, [tsc, ...args], { cwd: root });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  child.on('close', (code) => {
    process.stdout.write(`tsc -p ${args[1]}: ${code === 0 ? 'ok' : 'FAILED'}\n${output}`);
    resolve(code);
  });
})));
process.exit(results.every((code) => code === 0) ? 0 : 1);
