import { appendFileSync } from 'node:fs';
import { relative } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/**
 * Vitest setup file (vitest.config.ts adds it when GRIDSHARE_TEST_CPU names a file): appends one
 * JSON line per test file with the CPU its fork spent from the file's first hook to its last
 * (user and system, ms) and the wall time. On the shared CI machine wall times say how loaded it
 * was; CPU says what a file costs. Not counted: module loading before the first hook, and the CPU
 * of processes a file starts (`gridshare` processes, PostgreSQL's backends, Mosquitto).
 */
const target = process.env.GRIDSHARE_TEST_CPU;
if (target) {
  let cpu = process.cpuUsage();
  let wall = performance.now();
  beforeAll(() => {
    cpu = process.cpuUsage();
    wall = performance.now();
  });
  afterAll((suite) => {
    const spent = process.cpuUsage(cpu);
    const file = relative(process.cwd(), 'filepath' in suite ? String(suite.filepath) : suite.name);
    appendFileSync(target, `${JSON.stringify({ file, cpuMs: Math.round((spent.user + spent.system) / 1000), wallMs: Math.round(performance.now() - wall) })}\n`);
  });
}
