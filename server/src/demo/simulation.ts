import type { Db } from '../platform/store/db.js';
import { DEMO_MODELS, runControlledDevices, runSimulation, sunnyStreetDevices, type ControlledRun, type SimulationStats } from '../simulator/index.js';
import { deviceResource, signSasToken, readDeviceKeys } from '../provisioning/index.js';
import { DEMO_CONTROLLED_DEVICES, demoDeviceId } from './seed.js';
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

/**
 * Runs household 1's battery, EV charger, heat pump and washing machine against this platform's
 * broker: they take their commands, answer them and report what they then do every 5 s.
 */
export async function startDemoControlledDevices(options: { db: Db; secrets: SecretBox; mqttUrl: string; hostName: string }): Promise<ControlledRun> {
  const keys = await readDeviceKeys(options.db, options.secrets, DEMO_CONTROLLED_DEVICES.map((d) => d.id));
  const devices = DEMO_CONTROLLED_DEVICES.flatMap((device) => {
    const key = keys.get(device.id)?.primary;
    if (!key) return [];
    const password = () => signSasToken({ resource: deviceResource(options.hostName, device.id), key, expiresAt: new Date(Date.now() + 3_600_000) });
    return [{ deviceId: device.id, model: DEMO_MODELS[device.model], password }];
  });
  return runControlledDevices({ mqttUrl: options.mqttUrl, devices, intervalMs: 5_000 });
}
