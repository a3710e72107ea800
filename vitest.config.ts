import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// The meter tests read the shared conformance vectors next to the work tree (../shared/vectors).
// A checkout without them cannot run those tests; it says so instead of failing on a missing file.
const vectorsPresent = existsSync(new URL('../shared/vectors/index.json', import.meta.url));
if (!vectorsPresent) process.stderr.write('vitest: ../shared/vectors not found: the meter-decoder and agent tests (server/test/meters, server/test/agent) are skipped\n');

export default defineConfig({
  test: {
    include: ['server/test/**/*.test.ts', 'web/test/**/*.test.ts', 'web/e2e/**/*.test.ts'],
    exclude: vectorsPresent ? [] : ['server/test/meters/**', 'server/test/agent/**'],
    // One migrated PostgreSQL database per run, copied for each test database (when TEST_DATABASE_URL is set).
    globalSetup: ['server/test/support/postgres-template.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: one fork on a 2-core CI machine, the
    // other core nearly idle (the tests wait on PGlite, which computes in the fork itself).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // One fork evaluates the server's module graph once, not once per file: collection fell from
    // 133 s to 23 s of the server suite. Tests share no module state (no vi.mock; each file opens
    // its own platform and database).
    isolate: false,
    reporters: ['default'],
  },
});
