import mqtt, { type MqttClient } from 'mqtt';
import type { IngestService, AuthenticatedDevice } from './service.js';
import { parseDeviceTopic } from './topics.js';

export interface ExternalIngestOptions {
  url: string;
  /** Shared-subscription group: every Gridshare process of one installation uses the same name. */
  group: string;
  /** Stable per process, so a restarted process resumes its MQTT sessions and gets unacknowledged messages again. */
  instanceId: string;
  /** Parallel subscriber connections; each handles one message at a time. */
  connections: number;
  sessionExpirySeconds: number;
  ingest: IngestService;
  /** The broker authenticated the device; here we only find its binding (and skip unknown or disabled devices). */
  lookupDevice: (deviceId: string) => Promise<AuthenticatedDevice | undefined>;
  onRefused?: (deviceId: string, reason: string) => void;
}

export interface ExternalIngest {
  connected(): boolean;
  close(): Promise<void>;
}

/** MQTT 5 reason codes for PUBACK. */
const SUCCESS = 0;
const NOT_AUTHORISED = 0x87;
const PAYLOAD_FORMAT_INVALID = 0x99;

/**
 * Consumes devices' messages from an external broker (Mosquitto, EMQX, HiveMQ) through MQTT 5
 * shared subscriptions, so several Gridshare processes share the load. The PUBACK to the broker
 * is sent only after the group commit (customHandleAcks); a crash before it makes the broker
 * deliver the message again.
 */
export async function startExternalIngest(options: ExternalIngestOptions): Promise<ExternalIngest> {
  const clients: MqttClient[] = [];
  const handle = async (topic: string, payload: Buffer): Promise<number> => {
    const parsed = parseDeviceTopic(topic);
    if (!parsed || parsed.kind === 'commands') return NOT_AUTHORISED;
    const device = await options.lookupDevice(parsed.deviceId);
    if (!device) {
      options.onRefused?.(parsed.deviceId, 'unknown or disabled device');
      return NOT_AUTHORISED;
    }
    const outcome = parsed.kind === 'events'
      ? await options.ingest.ingestJson(device, payload)
      : await options.ingest.ingestFrame(device, parsed.format, payload);
    if (outcome.status === 'refused') {
      options.onRefused?.(device.id, `${outcome.rejection.code}: ${outcome.rejection.message}`);
      return PAYLOAD_FORMAT_INVALID;
    }
    return SUCCESS;
  };

  for (let i = 0; i < options.connections; i++) {
    const client = await mqtt.connectAsync(options.url, {
      protocolVersion: 5,
      clientId: `gridshare-${options.group}-${options.instanceId}-${i}`,
      clean: false,
      properties: { sessionExpiryInterval: options.sessionExpirySeconds },
      reconnectPeriod: 1_000,
      customHandleAcks: (topic, message, _packet, done) => {
        handle(topic, message).then(
          (code) => done(code),
          // Not stored: no PUBACK; dropping the connection makes the broker resend.
          (error: Error) => done(error),
        );
      },
    });
    clients.push(client);
    await client.subscribeAsync(
      [`$share/${options.group}/devices/+/messages/events`, `$share/${options.group}/devices/+/frames/+`],
      { qos: 1 },
    );
  }

  return {
    connected: () => clients.every((c) => c.connected),
    async close() {
      await Promise.all(clients.map((c) => c.endAsync()));
    },
  };
}
