import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../platform/store/db.js';
import { MODEL_KINDS, runSimulation, sunnyStreetDevices, type SimulationStats } from '../simulator/index.js';
import { deviceConfig, readDeviceKeys, type Endpoints } from '../provisioning/index.js';
import { readConfigFile, startAgent, type RunningAgent } from '../agent/index.js';
import { DEMO_CONTROLLED_DEVICES, demoDeviceId } from './seed.js';
import type { SecretBox } from '../secrets/index.js';
import { withUtilityReadings } from './utility-meters.js';

/** How often the demo's agents send their heartbeat (a real agent's default is a minute). */
const DEMO_HEARTBEAT_SECONDS = 10;
/** How often household 1's controlled devices report what they do. */
const CONTROLLED_READ_SECONDS = 5;

/**
 * Runs the simulated Sunny Street against this platform, as real readers would: each demo device
 * is a `gridshare agent` in this process whose meter is the simulator's. The agent commits every
 * message to its queue (SQLite in `agentsDir/<device>/`), sends it over MQTT QoS 1 with a SAS
 * token made from the device's key, deletes it once acknowledged, takes its commands and sends
 * its heartbeat, so the demo runs the agent's own code on every start. Household 1's battery, EV
 * charger, heat pump and washing machine are agents too, each with its simulated device as a
 * local device (`simulated`): control's commands reach them through the agent's command path
 * (checks, the answer, the safe fallback) and what they then do goes through its queue.
 */
export async function startDemoSimulation(options: {
  db: Db;
  secrets: SecretBox;
  /** Where the agents connect (the demo's broker URL, reachable from this process). */
  endpoints: Endpoints;
  /** The agents' folders: their agent.json (with the device's key: keep it private) and queue. */
  agentsDir: string;
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
    const kind = readings === 'pv' || site.kind === 'library' ? 'inverter' : site.kind === 'battery' ? 'battery' : 'meter-reader';
    return [{ deviceId, site, readings, config: deviceConfig(options.endpoints, { id: deviceId, kind, primaryKey: key }) }];
  });
  const controlledKeys = await readDeviceKeys(options.db, options.secrets, DEMO_CONTROLLED_DEVICES.map((d) => d.id));
  const controlled = DEMO_CONTROLLED_DEVICES.flatMap((device) => {
    const key = controlledKeys.get(device.id)?.primary;
    if (!key) return [];
    const localDevice = {
      name: device.model, kind: 'simulated', intervalSeconds: CONTROLLED_READ_SECONDS, config: { model: device.model },
      setpoints: Object.fromEntries(MODEL_KINDS[device.model].map((kind) => [kind, {}])), safeState: 'own-behaviour',
    };
    return [{ deviceId: device.id, config: deviceConfig(options.endpoints, { id: device.id, kind: device.kind, primaryKey: key }), connectors: [localDevice] }];
  });
  const agents = new Map<string, RunningAgent>();
  try {
    for (const device of [...devices.map((d) => ({ ...d, connectors: [] })), ...controlled]) {
      // No local page or mDNS (38 of them in one process); errors only, on this process's stderr.
      const agentSection = { web: { enabled: false }, mdns: false, logLevel: 'error', uplink: { heartbeatSeconds: DEMO_HEARTBEAT_SECONDS }, connectors: device.connectors };
      const path = writeAgentConfig(join(options.agentsDir, device.deviceId), { ...device.config, agent: agentSection });
      agents.set(device.deviceId, await startAgent(readConfigFile(path)));
    }
    let caughtUp = false;
    return await runSimulation({
      devices, intervalMs: options.intervalMs ?? 5_000, speed: options.speed, signal: options.signal,
      ...(options.start ? { start: options.start } : {}),
      // A few households' readers also read gas, heat and water meters on their M-Bus.
      deliver: (deviceId, readings) => agents.get(deviceId)?.record(withUtilityReadings(deviceId, readings)),
      onPublish(stats) {
        if (caughtUp || !stats.realTime) return;
        caughtUp = true;
        options.onCaughtUp?.();
      },
    });
  } finally {
    // What is not acknowledged yet stays in the agents' queues and goes out at the next start.
    await Promise.all([...agents.values()].map((agent) => agent.close()));
  }
}

/** The device's agent.json, private to this user: it holds the device key. */
function writeAgentConfig(dir: string, config: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'agent.json');
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return path;
}
