/**
 * Device authentication with sealed keys: SAS token checks per second when the device directory
 * has the device (the hot path of HTTP ingest and MQTT CONNECT) and when it must load it (a query
 * and opening the two sealed keys), and what opening the keys costs on its own.
 *
 *   npm run bench:device-auth [-- --devices 2000 --seconds 3 --record]
 */
import { performance } from 'node:perf_hooks';
import { openDb } from '../server/src/platform/store/db.js';
import { migrate } from '../server/src/platform/store/migrate.js';
import { memoryKeys, Secrets } from '../server/src/secrets/index.js';
import { openDeviceKey, readDeviceKeys } from '../server/src/provisioning/credentials.js';
import { deviceCredentialsStore } from '../server/src/provisioning/store.js';
import { meterKeysStore } from '../server/src/meters/index.js';
import { provisionBatch } from '../server/src/provisioning/service.js';
import { deviceResource, signSasToken } from '../server/src/provisioning/sas.js';
import { DeviceDirectory } from '../server/src/ingest/device-directory.js';
import { deviceAuthenticator } from '../server/src/provisioning/device-auth.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { benchCommunity, benchProvisioning } from './lib/community.js';
import { machine, recordSection } from './lib/report.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const deviceCount = Number(arg('--devices') ?? 2_000);
const seconds = Number(arg('--seconds') ?? 3);
const hostName = 'energy.example.org';

const dir = mkdtempSync(join(tmpdir(), 'gridshare-bench-auth-'));
const load = loadavg()[0]!;
const db = await openDb({ kind: 'pglite', dataDir: undefined });
try {
  await migrate(db);
  const secrets = await Secrets.open(db, memoryKeys(), [deviceCredentialsStore, meterKeysStore]);
  const { communityId, manager } = await benchCommunity(db);
  const endpoints = { publicUrl: `https://${hostName}`, mqttUrl: `mqtts://${hostName}`, hostName };
  const batch = await provisionBatch(benchProvisioning(db, join(dir, 'artefacts'), endpoints, secrets.box), manager, communityId, { count: deviceCount, kind: 'meter-reader' });
  const keys = await readDeviceKeys(db, secrets.box, batch.deviceIds);
  const expiresAt = new Date(Date.now() + 3_600_000);
  const tokens = batch.deviceIds.map((id) => [id, signSasToken({ resource: deviceResource(hostName, id), key: keys.get(id)!.primary, expiresAt })] as const);

  const directory = new DeviceDirectory(db, async (deviceId) => (await readDeviceKeys(db, secrets.box, [deviceId])).get(deviceId));
  const authenticate = deviceAuthenticator(directory, hostName);

  /** Checks per second over `seconds`, going round the devices; `before` runs ahead of each check. */
  async function rate(before: (id: string) => void): Promise<number> {
    let checks = 0;
    const started = performance.now();
    const until = started + seconds * 1000;
    while (performance.now() < until) {
      for (const [id, token] of tokens) {
        before(id);
        await authenticate(id, token);
        checks++;
        if ((checks & 255) === 0 && performance.now() >= until) break;
      }
    }
    return checks / ((performance.now() - started) / 1000);
  }

  await rate(() => undefined);
  const warm = await rate(() => undefined);
  const cold = await rate((id) => directory.invalidate(id));

  // Opening alone: the two sealed keys of every device, as the directory does on a load.
  const rows = await db.query<{ device_id: string; primary_key: string; secondary_key: string }>(
    'SELECT device_id, primary_key, secondary_key FROM device_credentials WHERE community_id = $1', [communityId]);
  let opened = 0;
  const openStart = performance.now();
  while (performance.now() - openStart < seconds * 1000) {
    for (const row of rows) {
      openDeviceKey(secrets.box, row.device_id, 'primary', row.primary_key);
      openDeviceKey(secrets.box, row.device_id, 'secondary', row.secondary_key);
      opened++;
    }
  }
  const openMicros = ((performance.now() - openStart) * 1000) / opened;
  const coldMicros = 1e6 / cold;

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const table = [
    '| Path | Checks/s | µs per check |',
    '|---|---:|---:|',
    `| Device in the directory (keys cached opened): HMAC check | ${fmt(warm)} | ${(1e6 / warm).toFixed(1)} |`,
    `| Device loaded: query, open both sealed keys, HMAC check | ${fmt(cold)} | ${coldMicros.toFixed(1)} |`,
    `| Opening the two sealed keys alone (AES-256-GCM) | ${fmt(1e6 / openMicros)} | ${openMicros.toFixed(1)} (${((openMicros / coldMicros) * 100).toFixed(1)} % of a load) |`,
  ].join('\n');
  process.stdout.write(`${table}\n`);
  if (process.argv.includes('--record')) {
    recordSection('Device authentication', `Measured ${machine()} with \`npm run bench:device-auth\` (${deviceCount} provisioned devices on PGlite, `
      + `SAS tokens signed with the primary key, ${seconds} s per path, one check at a time; 1-minute load average at start ${load.toFixed(2)}, the machine is shared). `
      + 'Device keys are stored sealed (server/src/secrets); the device directory opens them when it loads a device and keeps them opened for 10 s, '
      + 'so a check of a cached device costs what it did with keys in plain text, and a load pays the opening once.\n\n' + table);
  }
} finally {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}
