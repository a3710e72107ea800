import mqtt, { type MqttClient } from 'mqtt';
import type { EmbeddedBroker } from '../platform/mqtt/embedded.js';
import { parseDeviceTopic, topics } from '../kernel/topics.js';
import type { DeviceCommand } from '@gridshare/contract/control';
import type { CommandDevice, CommandTransport } from './service.js';

const commandPayload = (command: DeviceCommand) => Buffer.from(JSON.stringify(command));

/**
 * Commands through the embedded broker, in-process: published with QoS 1 to the device's commands
 * topic (the broker lets each device subscribe to its own only). `onSubscribed` is told when a
 * device subscribes to its commands topic, i.e. came online, so it is given what is still valid.
 */
export function embeddedCommandTransport(broker: EmbeddedBroker, onSubscribed: (deviceId: string) => void): CommandTransport {
  broker.aedes.on('subscribe', (subscriptions, client) => {
    if (client && subscriptions.some((s) => s.topic === topics.commands(client.id))) onSubscribed(client.id);
  });
  return {
    publish: (deviceId, command) => new Promise<void>((resolve, reject) => {
      broker.aedes.publish(
        { cmd: 'publish', topic: topics.commands(deviceId), payload: commandPayload(command), qos: 1, retain: false, dup: false },
        (error) => (error ? reject(error) : resolve()),
      );
    }),
  };
}

export interface ExternalCommandsOptions {
  readonly url: string;
  /** The shared-subscription group of the installation's processes (as for ingestion). */
  readonly group: string;
  readonly instanceId: string;
  /** The broker authenticated the device; here only its community is looked up (unknown or disabled: skipped). */
  readonly lookupDevice: (deviceId: string) => Promise<CommandDevice | undefined>;
  readonly onAck: (device: CommandDevice, payload: Buffer) => Promise<void>;
  readonly log: (line: string) => void;
  readonly now: () => number;
}

export interface ExternalCommands extends CommandTransport {
  close(): Promise<void>;
}

/**
 * Commands through an external broker (Mosquitto, EMQX): one MQTT 5 connection per process that
 * publishes commands with QoS 1 and takes the devices' acknowledgements through a shared
 * subscription, so each is handled by one process of the installation; its PUBACK goes out only
 * once the answer is stored. The broker must restrict each device to its own topics.
 */
export async function startExternalCommands(options: ExternalCommandsOptions): Promise<ExternalCommands> {
  const client: MqttClient = await mqtt.connectAsync(options.url, {
    clientId: `gridshare-control-${options.group}-${options.instanceId}`,
    protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3_600 }, reconnectPeriod: 1_000,
  });
  client.on('error', (error) => options.log(`gridshare: MQTT commands connection: ${error.message}`));
  client.handleMessage = (packet, done) => {
    const topic = parseDeviceTopic(packet.topic);
    if (topic?.kind !== 'command-ack') {
      done();
      return;
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    options.lookupDevice(topic.deviceId)
      .then((device) => (device ? options.onAck(device, payload) : options.log(`gridshare: acknowledgement from unknown or disabled device ${topic.deviceId} ignored`)))
      .then(() => done(), (error: Error) => done(error));
  };
  await client.subscribeAsync(`$share/${options.group}/devices/+/commands/ack`, { qos: 1 });
  return {
    publish: async (deviceId, command) => {
      // A device away with a persistent session is not given it by the broker after its expiry.
      const expirySeconds = Math.max(1, Math.ceil((Date.parse(command.expiresAt) - options.now()) / 1_000));
      await client.publishAsync(topics.commands(deviceId), commandPayload(command), { qos: 1, properties: { messageExpiryInterval: expirySeconds } });
    },
    close: () => client.endAsync(),
  };
}
