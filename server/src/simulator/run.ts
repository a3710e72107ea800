/**
 * Runs the simulated street against a real MQTT broker: one MQTT client per device, each
 * authenticating as its device and publishing its meter's readings every tick with QoS 1 — or
 * hands each device's readings to `deliver` (the demo's in-process agents, which queue and send
 * them as an agent on a Raspberry Pi does).
 *
 * Time: simulated time starts in the past and runs `speed` times faster than the wall clock
 * until it reaches now, then continues in real time, so no reading is ever from the future
 * (the platform refuses those). Without `start`, a real-time run starts now and a faster run
 * replays the last 24 hours first.
 *
 * Meter history: registers and the battery's charge are simulated from a fixed anchor
 * (2026-01-01T00:00Z by default) up to `start` before anything is published. So every run with
 * the same seed and sites reports the same values for the same instant: a restarted simulator
 * continues the registers it published before instead of sending them backwards (which the
 * platform would record as a meter exchange). This costs ~4 s of CPU per simulated year,
 * done in small slices so a server in the same process stays responsive.
 */
import { connect, type MqttClient } from 'mqtt';
import type { Reading } from '../kernel/quantities.js';
import { boundaryReadings, buildMessage, readingsTopic } from './messages.js';
import { createNeighbourhood, type Neighbourhood } from './neighbourhood.js';
import { catchUpTime, defaultStart, quarterHoursBetween, simulatedTime, slotTime } from './schedule.js';
import { reportedBy, sitesOfDevices, SUNNY_STREET, type DeviceReadings, type SiteSpec } from './sites.js';

export { sunnyStreetDevices, sunnyStreetSites, SUNNY_STREET, type SiteSpec } from './sites.js';

const DAY_MS = 86_400_000;
export const DEFAULT_ANCHOR = new Date('2026-01-01T00:00:00Z');
export const DEFAULT_SEED = 1;

export interface SimulatedDevice {
  readonly deviceId: string;
  /** Several devices may measure one site (a grid meter and a PV inverter): they share it by name. */
  readonly site: SiteSpec;
  /** What the device reports of its site (default: all). */
  readonly readings?: DeviceReadings;
  /** The MQTT password (a SAS token); asked again at every reconnect, since tokens expire. Unused with `deliver`. */
  readonly password?: () => string;
}

export interface SimulationLocation {
  readonly latitude: number;
  readonly longitude: number;
  readonly timeZone: string;
}

export interface SimulationStats {
  readonly devices: number;
  /** Clients connected to the broker now (none with `deliver`: the devices' own senders connect). */
  readonly connected: number;
  /** Messages handed to the MQTT clients. */
  readonly published: number;
  /** Messages the broker acknowledged (PUBACK), or handed to `deliver`. */
  readonly acknowledged: number;
  /** Messages refused by the broker, or still unacknowledged when the run stopped. */
  readonly failed: number;
  /** Messages published but not yet acknowledged (in flight or queued while disconnected). */
  readonly pending: number;
  /** Readings in the published messages. */
  readonly readings: number;
  /** Ticks dropped because the process fell more than a tick behind. */
  readonly skippedTicks: number;
  /** Simulated instant of the latest message, ISO 8601. */
  readonly simulatedTime: string;
  /** True once simulated time has caught up with the wall clock. */
  readonly realTime: boolean;
}

export interface SimulationOptions {
  /** The broker every device publishes to; unused with `deliver`. */
  readonly mqttUrl?: string;
  /**
   * Takes each message's readings instead of an MQTT client of the simulator (the device's own
   * sender then queues, publishes and answers for them); the devices need no password then.
   */
  readonly deliver?: (deviceId: string, readings: readonly Reading[]) => void;
  readonly devices: readonly SimulatedDevice[];
  /** Wall-clock time between two messages of one device, ms. */
  readonly intervalMs: number;
  /** Simulated seconds per real second until simulated time reaches now (1 = real time, 480 = a day in 3 minutes). */
  readonly speed: number;
  /** First simulated instant; must not be in the future. Default: now, or 24 h ago when speed > 1. */
  readonly start?: Date;
  readonly seed?: number;
  /** Where the street is; default Sunny Street in Vienna. */
  readonly location?: SimulationLocation;
  /** Instant from which meter history is simulated (see the module comment); clamped to `start`. */
  readonly anchor?: Date;
  /**
   * MQTT protocol: 4 (3.1.1, default) or 5. The embedded broker (Aedes 1.x) speaks only 3.1.1
   * and refuses 5 with "unacceptable protocol version"; Mosquitto and EMQX speak both.
   */
  readonly protocolVersion?: 4 | 5;
  /** How long to wait for the first connection of every device before the clock starts anyway, ms. */
  readonly connectTimeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Called whenever a counter changes (publish, acknowledgement, failure, connection). */
  readonly onPublish?: (stats: SimulationStats) => void;
  /** Connection and publish errors, per device; the run carries on (clients reconnect by themselves). */
  readonly onError?: (deviceId: string, error: Error) => void;
}

function validate(options: SimulationOptions, nowMs: number): void {
  if (!options.deliver) {
    let url: URL;
    try {
      url = new URL(options.mqttUrl ?? '');
    } catch {
      throw new RangeError(`not a URL: ${options.mqttUrl}`);
    }
    if (!['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:', 'ws:', 'wss:'].includes(url.protocol)) throw new RangeError(`not an MQTT URL: ${options.mqttUrl}`);
  }
  if (options.devices.length === 0) throw new RangeError('no devices to simulate');
  const ids = new Set<string>();
  for (const device of options.devices) {
    if (!device.deviceId || /[#+/]/.test(device.deviceId)) throw new RangeError(`device id ${JSON.stringify(device.deviceId)} cannot be used in an MQTT topic`);
    if (ids.has(device.deviceId)) throw new RangeError(`device ${device.deviceId} is listed twice`);
    if (!options.deliver && !device.password) throw new RangeError(`device ${device.deviceId} has no MQTT password`);
    ids.add(device.deviceId);
  }
  if (!(Number.isFinite(options.intervalMs) && options.intervalMs >= 10)) throw new RangeError('intervalMs must be at least 10');
  if (!(Number.isFinite(options.speed) && options.speed > 0)) throw new RangeError('speed must be a positive number');
  if (options.start && !(options.start.getTime() <= nowMs)) {
    throw new RangeError('start must not be in the future: the platform refuses readings from the future');
  }
}

/** Resolves at `atMs` or as soon as the signal aborts. */
function sleepUntil(atMs: number, signal: AbortSignal | undefined): Promise<void> {
  const wait = atMs - Date.now();
  if (wait <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, wait);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Simulates up to `to` a day at a time, yielding to the event loop between days. */
async function fastForward(street: Neighbourhood, to: number, signal: AbortSignal | undefined): Promise<void> {
  for (let t = street.now().getTime(); t < to && !signal?.aborted;) {
    t = Math.min(to, t + DAY_MS);
    street.step(new Date(t));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * Gives a client's in-flight messages up to `graceMs` to be acknowledged, then closes it.
 * (Not `end(false)`: that waits for acknowledgements without limit, and a later `end(true)` is
 * ignored while it waits, which would leave the connection open.)
 */
async function endClient(client: MqttClient, settled: () => boolean, graceMs = 2000): Promise<void> {
  const deadline = Date.now() + graceMs;
  while (!settled() && client.connected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  await new Promise<void>((resolve) => client.end(true, () => resolve()));
}

/**
 * Runs until `signal` aborts, then disconnects every client and resolves with the final
 * counters. Rejects only for invalid options (before connecting).
 */
export async function runSimulation(options: SimulationOptions): Promise<SimulationStats> {
  const nowMs = Date.now();
  validate(options, nowMs);
  const { devices, signal, intervalMs, speed } = options;
  const location = options.location ?? SUNNY_STREET;
  const startMs = (options.start ?? defaultStart(nowMs, speed)).getTime();
  const anchorMs = Math.min((options.anchor ?? DEFAULT_ANCHOR).getTime(), startMs);

  const { sites, siteOf } = sitesOfDevices(devices);
  const reports = devices.map((device) => reportedBy(device.readings ?? 'all'));
  const street = createNeighbourhood({
    seed: options.seed ?? DEFAULT_SEED,
    sites,
    start: new Date(anchorMs),
    ...location,
  });
  await fastForward(street, startMs, signal);

  let published = 0;
  let acknowledged = 0;
  let failed = 0;
  // Unsettled messages (id → device index): settled when acknowledged or refused, or written off when the run stops.
  const unsettled = new Map<number, number>();
  let readingCount = 0;
  let skippedTicks = 0;
  let latestSimulated = startMs;
  let realStartMs = Date.now();
  const connected = new Set<string>();
  const stats = (): SimulationStats => ({
    devices: devices.length,
    connected: connected.size,
    published, acknowledged, failed,
    pending: unsettled.size,
    readings: readingCount,
    skippedTicks,
    simulatedTime: new Date(latestSimulated).toISOString(),
    realTime: Date.now() >= catchUpTime(startMs, speed, realStartMs),
  });
  const changed = () => options.onPublish?.(stats());
  const reportError = (deviceId: string, error: unknown) => options.onError?.(deviceId, error instanceof Error ? error : new Error(String(error)));

  if (signal?.aborted) return stats();

  const { deliver } = options;
  // First passwords before any client exists: a provider that fails leaves nothing to clean up.
  const passwords = deliver ? [] : devices.map((device) => device.password!());
  // One client per device, as the real meter readers would connect (none when `deliver` sends for them).
  const clients: MqttClient[] = deliver ? [] : devices.map((device, index) => {
    const client = connect(options.mqttUrl!, {
      clientId: device.deviceId,
      username: device.deviceId,
      password: passwords[index]!,
      protocolVersion: options.protocolVersion ?? 4,
      clean: true,
      keepalive: 60,
      connectTimeout: 10_000,
      // Spread reconnects so a broker restart is not answered by 32 clients at once.
      reconnectPeriod: 2000 + ((index * 137) % 1000),
    });
    client.on('reconnect', () => {
      // The connect packet is built from client.options right after this event: a fresh token.
      try {
        client.options.password = device.password!();
      } catch (error) {
        reportError(device.deviceId, error);
      }
    });
    client.on('connect', () => {
      connected.add(device.deviceId);
      changed();
    });
    client.on('close', () => {
      if (connected.delete(device.deviceId)) changed();
    });
    client.on('error', (error) => reportError(device.deviceId, error));
    return client;
  });

  try {
    // Start the clock once everyone is connected (or the wait is over): the first tick is not lost in connecting.
    const connectDeadline = Date.now() + (options.connectTimeoutMs ?? 10_000);
    while (connected.size < clients.length && Date.now() < connectDeadline && !signal?.aborted) {
      await sleepUntil(Math.min(connectDeadline, Date.now() + 20), signal);
    }

    realStartMs = Date.now();
    let steppedTo = startMs;
    const lastSent = devices.map(() => startMs);
    // Register values at quarter hours passed, until every device has sent them.
    let boundaries: { ts: number; sites: Reading[][] }[] = [];

    const publish = (index: number, simMs: number) => {
      for (const boundary of quarterHoursBetween(steppedTo, simMs)) {
        boundaries.push({ ts: boundary, sites: street.step(new Date(boundary)).map((site) => boundaryReadings(site.readings)) });
      }
      const current = street.step(new Date(simMs));
      steppedTo = simMs;
      latestSimulated = simMs;
      const device = devices[index]!;
      const since = lastSent[index]!;
      const own = (readings: readonly Reading[]) => readings.filter((reading) => reports[index]!(reading.quantity));
      const passed = boundaries.filter((b) => b.ts > since && b.ts < simMs).map((b) => own(b.sites[siteOf[index]!]!));
      lastSent[index] = simMs;
      const oldest = Math.min(...lastSent);
      boundaries = boundaries.filter((b) => b.ts > oldest);
      const message = buildMessage(own(current[siteOf[index]!]!.readings), passed);
      published += 1;
      readingCount += message.readings;
      if (deliver) {
        acknowledged += 1;
        deliver(device.deviceId, message.list);
        changed();
        return;
      }
      const client = clients[index]!;
      const id = published;
      unsettled.set(id, index);
      client.publish(readingsTopic(device.deviceId), message.payload, { qos: 1 }, (error) => {
        if (!unsettled.delete(id)) return;
        if (error) {
          failed += 1;
          reportError(device.deviceId, error);
        } else {
          acknowledged += 1;
        }
        changed();
      });
      changed();
    };

    for (let tick = 0; !signal?.aborted; tick++) {
      // Fallen more than a tick behind (a busy or suspended process): skip ahead rather than burst.
      const behind = Math.floor((Date.now() - slotTime(realStartMs, intervalMs, tick, 0, 1)) / intervalMs);
      if (behind > 1) {
        skippedTicks += behind - 1;
        tick += behind - 1;
      }
      for (let index = 0; index < devices.length && !signal?.aborted; index++) {
        const slot = slotTime(realStartMs, intervalMs, tick, index, devices.length);
        await sleepUntil(slot, signal);
        if (signal?.aborted) break;
        publish(index, simulatedTime(startMs, speed, realStartMs, slot));
      }
    }
  } finally {
    const settled = (index: number) => () => ![...unsettled.values()].includes(index);
    await Promise.all(clients.map((client, index) => endClient(client, settled(index))));
    connected.clear();
    // mqtt.js keeps QoS 1 messages for a resend after reconnecting and never calls them back
    // once ended: whatever is unacknowledged now is lost to this run.
    failed += unsettled.size;
    unsettled.clear();
  }
  changed();
  return stats();
}

/**
 * What each device would report at the given instants (ascending), from the same meter history a
 * run with the same seed, sites and anchor replays: registers continue exactly where a later
 * replay picks them up. The demo uses it for a past day's metering (flex/ settles against it).
 */
export async function readingsAt(
  devices: readonly Pick<SimulatedDevice, 'deviceId' | 'site' | 'readings'>[], instantsMs: readonly number[],
  options: { seed?: number; anchor?: Date; location?: SimulationLocation; signal?: AbortSignal } = {},
): Promise<Map<string, Reading[]>> {
  if (instantsMs.length === 0) return new Map();
  const first = instantsMs[0]!;
  const { sites, siteOf } = sitesOfDevices(devices);
  const street = createNeighbourhood({
    seed: options.seed ?? DEFAULT_SEED, sites, start: new Date(Math.min((options.anchor ?? DEFAULT_ANCHOR).getTime(), first)), ...(options.location ?? SUNNY_STREET),
  });
  await fastForward(street, first, options.signal);
  const reports = devices.map((device) => reportedBy(device.readings ?? 'all'));
  const out = new Map<string, Reading[]>(devices.map((d) => [d.deviceId, []]));
  for (const at of instantsMs) {
    const now = street.step(new Date(at));
    devices.forEach((device, index) => out.get(device.deviceId)!.push(...now[siteOf[index]!]!.readings.filter((r) => reports[index]!(r.quantity))));
  }
  return out;
}
