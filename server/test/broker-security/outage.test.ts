import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryKeys } from '../../src/secrets/index.js';
import { createMigratedTestDatabase, postgresUrl, type TestDatabase } from '../support/stores.js';
import { mosquittoMissing, startMosquitto, type TestMosquitto } from '../support/mosquitto.js';
import { runBrokerOutage } from '../support/broker-outage.js';

if (mosquittoMissing) console.warn(`skipping the external-broker outage test: ${mosquittoMissing}`);

/**
 * The outage, scaled to test time: Gridshare (on PostgreSQL, the external path's store)
 * is down while devices publish QoS 1 at a high rate to a Mosquitto with the recommended
 * configuration; back up, it stores everything the broker acknowledged, once. The full-size
 * figure (60 s at 1,000 readings/s) is `npm run bench:broker-outage`.
 */
describe.skipIf(mosquittoMissing !== undefined || !postgresUrl)('a Gridshare outage behind an external Mosquitto', () => {
  let broker: TestMosquitto;
  let database: TestDatabase;

  beforeAll(async () => {
    broker = await startMosquitto();
    database = await createMigratedTestDatabase('postgres');
  });
  afterAll(async () => {
    await broker?.close();
    await database?.drop();
  });

  it('loses nothing the broker acknowledged and stores each reading once', async () => {
    const result = await runBrokerOutage({ store: database.config, secretKeys: memoryKeys(), broker, devices: 4, ratePerSecond: 500, outageSeconds: 3 });
    expect(result.notAcknowledged).toBe(0);
    expect(result.acknowledged).toBe(1_500);
    expect(result.stored).toBe(result.acknowledged);
    expect(result.handled).toBe(result.acknowledged);
  }, 300_000);
});
