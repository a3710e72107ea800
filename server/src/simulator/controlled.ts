import mqtt, { type MqttClient } from 'mqtt';
import { topics } from '../kernel/topics.js';
import { newDevice, receive, step, type ControlledDevice, type DeviceModel, type ReceivedCommand } from './domain/controllable.js';

export interface ControlledDeviceSpec {
  readonly deviceId: string;
  readonly model: DeviceModel;
  /** A fresh SAS token (re-signed at every reconnect). */
  readonly password: () => string;
}

export interface ControlledRun {
  /** The devices' current state, for tests and logs. */
  state(deviceId: string): ControlledDevice | undefined;
  close(): Promise<void>;
}

const COMMAND_FIELDS = ['id', 'kind', 'value', 'validFrom', 'expiresAt', 'issuedAt'];

function parseCommand(payload: Buffer): ReceivedCommand | undefined {
  try {
    const raw = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    if (COMMAND_FIELDS.some((f) => !(f in raw))) return undefined;
    return {
      id: String(raw.id), kind: raw.kind as ReceivedCommand['kind'], value: typeof raw.value === 'number' ? raw.value : null,
      validFromMs: Date.parse(String(raw.validFrom)), expiresAtMs: Date.parse(String(raw.expiresAt)), issuedAtMs: Date.parse(String(raw.issuedAt)),
    };
  } catch {
    return undefined;
  }
}

/**
 * Runs devices that follow commands over real MQTT, as a home's battery, charger, heat pump and
 * washing machine would: each subscribes to its commands topic, answers every command on its ack
 * topic, and publishes what it does every `intervalMs` (QoS 1) to its events topic.
 */
export async function runControlledDevices(options: {
  mqttUrl: string;
  devices: readonly ControlledDeviceSpec[];
  intervalMs: number;
  now?: () => number;
  log?: (line: string) => void;
}): Promise<ControlledRun> {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const states = new Map<string, ControlledDevice>();
  const clients: MqttClient[] = [];
  let last = now();
  for (const spec of options.devices) {
    states.set(spec.deviceId, newDevice(spec.model));
    const client = await mqtt.connectAsync(options.mqttUrl, {
      clientId: spec.deviceId, username: spec.deviceId, password: spec.password(), protocolVersion: 4, reconnectPeriod: 5_000, connectTimeout: 10_000,
    });
    client.on('error', (error) => log(`${spec.deviceId}: ${error.message}`));
    // A reconnect signs a new token (the old one may have expired).
    client.on('close', () => {
      client.options.password = spec.password();
    });
    client.on('message', (topic, payload) => {
      if (topic !== topics.commands(spec.deviceId)) return;
      const command = parseCommand(payload);
      if (!command) return;
      const outcome = receive(states.get(spec.deviceId)!, command, now());
      states.set(spec.deviceId, outcome.device);
      log(`${spec.deviceId}: ${command.kind} ${command.value ?? ''} ${outcome.answer.result}`);
      client.publish(topics.commandAck(spec.deviceId), JSON.stringify({ commandId: command.id, ...outcome.answer }), { qos: 1 });
    });
    await client.subscribeAsync(topics.commands(spec.deviceId), { qos: 1 });
    clients.push(client);
  }
  const tick = () => {
    const at = now();
    for (const [index, spec] of options.devices.entries()) {
      const result = step(states.get(spec.deviceId)!, last, at - last);
      states.set(spec.deviceId, result.device);
      const ts = new Date(at).toISOString();
      clients[index]!.publish(topics.events(spec.deviceId), JSON.stringify({ readings: result.readings.map((r) => ({ ts, ...r })) }), { qos: 1 });
    }
    last = at;
  };
  const timer = setInterval(tick, options.intervalMs);
  return {
    state: (deviceId) => states.get(deviceId),
    async close() {
      clearInterval(timer);
      await Promise.all(clients.map((c) => c.endAsync()));
    },
  };
}
