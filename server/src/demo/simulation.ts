import type { Db } from '../platform/store/db.js';
import { runSimulation, sunnyStreetDevices, type SimulationStats } from '../simulator/index.js';
import { deviceResource, signSasToken, readDeviceKeys } from '../provisioning/index.js';
import { demoDeviceId } from './seed.js';
import type { SecretBox } from '../secrets/index.js';

/**
 * Runs the simulated Sunny Street against this platform's own broker, as real devices would:
 * each demo device connects with a SAS token made from its key in the database.
 */
export async function startDemoSimulation(options: {
  db: Db;
  secrets: SecretBox;
  mqttUrl: string;
  hostName: string;
  speed: number;
  signal: AbortSignal;
  /** First simulated instant (default: the last day is replayed) and the time between two messages of a device. */
  start?: Date;
  intervalMs?: number;
  /** Called once when the replayed history is in and the simulation runs in real time (the demo then forecasts again on it). */
  onCaughtUp?: () => void;
}): Promise<SimulationStats> {
  const street = sunnyStreetDevices();
  const ids = street.map((_, index) => demoDeviceId(index));
  const keys = await readDeviceKeys(options.db, options.secrets, ids);
  const devices = street.flatMap(({ site, readings }, index) => {
    const deviceId = ids[index]!;
    const key = keys.get(deviceId)?.primary;
    if (!key) return [];
    const password = () => signSasToken({ resource: deviceResource(options.hostName, deviceId), key, expiresAt: new Date(Date.now() + 3_600_000) });
    return [{ deviceId, site, readings, password }];
  });
  let caughtUp = false;
  return runSimulation({
    mqttUrl: options.mqttUrl, devices, intervalMs: options.intervalMs ?? 5_000, speed: options.speed, signal: options.signal,
    ...(options.start ? { start: options.start } : {}),
    onPublish(stats) {
      if (caughtUp || !stats.realTime) return;
      caughtUp = true;
      options.onCaughtUp?.();
    },
  });
}
