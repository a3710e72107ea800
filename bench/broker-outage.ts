/**
 * A Gridshare outage on the external path at full size: every Gridshare process down for 60 s
 * while devices publish QoS 1 at 1,000 readings/s to a Mosquitto with the repository's
 * recommended configuration (deploy/mosquitto), then Gridshare back on PostgreSQL. Counts what
 * the broker acknowledged, what was stored and handled, and how long the catch-up took.
 *
 *   npm run bench:broker-outage [-- --rate 1000 --seconds 60 --devices 20 --record]
 */
import { loadavg } from 'node:os';
import { memoryKeys } from '../server/src/secrets/index.js';
import { createMigratedTestDatabase, postgresUrl } from '../server/test/support/stores.js';
import { mosquittoMissing, startMosquitto } from '../server/test/support/mosquitto.js';
import { runBrokerOutage } from '../server/test/support/broker-outage.js';
import { machine, recordSection } from './lib/report.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const rate = Number(arg('--rate') ?? 1_000);
const seconds = Number(arg('--seconds') ?? 60);
const devices = Number(arg('--devices') ?? 20);

if (mosquittoMissing) throw new Error(`this benchmark needs Mosquitto: ${mosquittoMissing}`);
if (!postgresUrl) throw new Error('this benchmark needs PostgreSQL: set TEST_DATABASE_URL');

const loadBefore = loadavg()[0]!;
const broker = await startMosquitto();
const database = await createMigratedTestDatabase('postgres');
try {
  const result = await runBrokerOutage({
    store: database.config, secretKeys: memoryKeys(), broker, devices, ratePerSecond: rate, outageSeconds: seconds, stallMs: 30_000,
    log: (line) => console.log(line),
  });
  const lost = result.acknowledged - result.stored;
  const line = `| ${seconds} s at ${rate.toLocaleString('en')} readings/s, ${devices} devices | ${result.acknowledged.toLocaleString('en')} | ${result.notAcknowledged} | ${result.stored.toLocaleString('en')} | ${result.handled.toLocaleString('en')} | ${lost} | ${result.publishSeconds.toFixed(1)} | ${result.catchUpSeconds.toFixed(1)} | ${loadBefore.toFixed(1)} / ${loadavg()[0]!.toFixed(1)} |`;
  console.log(line);
  if (process.argv.includes('--record')) {
    recordSection('External broker outage', `Measured ${machine()} with \`npm run bench:broker-outage\`: Mosquitto 2.0 with \`deploy/mosquitto/mosquitto.conf\` (dynamic security, persistence, \`max_queued_messages 100000\`) on a loopback port, Gridshare on PostgreSQL with 2 consumer connections; every Gridshare process stopped, devices publishing QoS 1 (one reading a message) for the whole outage, then Gridshare started again with the same instance name. "Catch-up" is from the restart (including the platform's start) until every acknowledged message was handled. Before this change (issue 22, Mosquitto defaults) a 10 s outage lost 4,029 acknowledged readings.

| Outage | Acknowledged | Not acknowledged | Stored | Handled | Lost | Publishing (s) | Catch-up (s) | Load before / after |
|---|---:|---:|---:|---:|---:|---:|---:|---|
${line}`);
  }
} finally {
  await database.drop();
  await broker.close();
}
