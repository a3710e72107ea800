import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The meter tests read the shared conformance vectors next to the work tree (../shared/vectors).
// A checkout without them cannot run those tests; it says so instead of failing on a missing file.
const vectorsPresent = existsSync(new URL('../shared/vectors/index.json', import.meta.url));
if (!vectorsPresent) process.stderr.write('vitest: ../shared/vectors not found: the meter-decoder and agent tests (server/test/meters, server/test/agent) are skipped\n');

/**
 * The files that start `gridshare` processes take longest (30–90 s each on the CI machine): they
 * start first, so that none of them starts last while the other worker has nothing left to do.
 * Within each group, vitest's order (with its cache of the last run: failed first, then longest).
 */
class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const startsProcesses = (file: TestSpecification) => file.moduleId.includes('/server/test/process/');
    return [...sorted.filter(startsProcesses), ...sorted.filter((file) => !startsProcesses(file))];
  }
}

export default defineConfig({
  test: {
    include: ['server/test/**/*.test.ts', 'web/test/**/*.test.ts', 'web/e2e/**/*.test.ts'],
    exclude: vectorsPresent ? [] : ['server/test/meters/**', 'server/test/agent/**'],
    // One migrated PostgreSQL database per run, copied for each test database (when TEST_DATABASE_URL is set).
    globalSetup: ['server/test/support/postgres-template.ts'],
    // GRIDSHARE_TEST_CPU=<file>: each test file's CPU, one JSON line per file (bench/RESULTS.md, Test suite).
    setupFiles: process.env.GRIDSHARE_TEST_CPU ? ['server/test/support/cpu-per-file.ts'] : [],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: one fork on a 2-core CI machine, the
    // other core nearly idle (the tests wait on PGlite, which computes in the fork itself).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // One fork evaluates the server's module graph once, not once per file: collection fell from
    // 133 s to 23 s of the server suite. Tests share no module state (no vi.mock; each file opens
    // its own platform and database); what they do share is meant to be shared: the HTTP layer's
    // compiled validators and serializers (pure functions of their schemas), compiled once per fork.
    isolate: false,
    sequence: { sequencer: SlowestFirst },
    reporters: ['default'],
  },
});
