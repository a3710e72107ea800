import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadMigrations } from '../../src/platform/store/migrate.js';

describe('migrations of the platform\'s parts', () => {
  it('are found in src/platform/<part>/migrations beside the capabilities\' own, ordered by their global number', () => {
    const root = mkdtempSync(join(tmpdir(), 'gridshare-migrations-'));
    for (const [path, sql] of Object.entries({
      'registry/migrations/0002_registry.sql': 'SELECT 2',
      'platform/jobs/migrations/0051_job_leases.sql': 'SELECT 51',
      'platform/events/migrations/0050_event_outbox.sql': 'SELECT 50',
      'platform/events/notes.txt': 'ignored',
    })) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), sql);
    }
    expect(loadMigrations(root).map((m) => [m.version, m.name])).toEqual([
      ['0002', 'registry/0002_registry.sql'], ['0050', 'platform/events/0050_event_outbox.sql'], ['0051', 'platform/jobs/0051_job_leases.sql'],
    ]);
  });

  it('include the outbox and the job leases in the real tree', () => {
    const names = loadMigrations().map((m) => m.name);
    expect(names).toContain('platform/events/0050_event_outbox.sql');
    expect(names).toContain('platform/jobs/0051_job_leases.sql');
  });
});
