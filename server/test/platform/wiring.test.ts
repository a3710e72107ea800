import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { insertCommunityWithDevice } from '../support/fixtures.js';

/** The composition root: readings reach the intervals and the sharing only through events, and every job shows in /metrics. */
describe('events and jobs in a running platform', () => {
  let tp: TestPlatform;
  beforeAll(async () => { tp = await startTestPlatform('pglite'); });
  afterAll(() => tp?.close());

  it('marks, computes and reports the jobs', async () => {
    const site = await insertCommunityWithDevice(tp.platform.db);
    const source = { deviceId: site.deviceId, communityId: site.communityId, meteringPointId: site.meteringPointId };
    await tp.platform.writer.write(source, [
      { ts: '2026-11-20T10:00:00Z', quantity: 'energy.import', value: 1_000, unit: 'Wh' },
      { ts: '2026-11-20T10:20:00Z', quantity: 'energy.import', value: 1_100, unit: 'Wh' },
    ]);
    // Marked in the ingest transaction by the intervals' own subscriber.
    expect(await tp.platform.db.query('SELECT 1 FROM interval_dirty WHERE metering_point_id = $1', [site.meteringPointId])).toHaveLength(2);
    await tp.platform.intervals.flush();
    expect(await tp.platform.db.query('SELECT 1 FROM intervals WHERE metering_point_id = $1', [site.meteringPointId])).not.toHaveLength(0);
    await tp.platform.sharing.flush();

    const metrics = (await tp.call('GET', '/metrics', { token: tp.admin.token })).raw.body;
    for (const job of ['intervals', 'sharing', 'event outbox']) {
      expect(metrics).toMatch(new RegExp(`^gridshare_job_lag_seconds\\{job_name="${job}"\\} [0-9.e+-]+$`, 'm'));
      expect(metrics).toMatch(new RegExp(`^gridshare_job_failures_in_row\\{job_name="${job}"\\} 0$`, 'm'));
    }
    expect(Number(/^gridshare_job_runs_total\{job_name="intervals"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(metrics).toMatch(/^gridshare_job_lag_seconds\{job_name="intervals"\} 0$/m);
  });
});
