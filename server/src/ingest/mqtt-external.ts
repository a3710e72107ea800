import type { IngestService, AuthenticatedDevice } from './service.js';
import { parseDeviceTopic } from '../kernel/topics.js';
import { MqttConsumer } from './mqtt-consumer.js';

export interface ExternalIngestOptions {
  url: string;
  /** Shared-subscription group: every Gridshare process of one installation uses the same name. */
  group: string;
  /** Stable per process, so a restarted process resumes its MQTT sessions and gets unacknowledged messages again. */
  instanceId: string;
  /** Parallel subscriber connections. */
  connections: number;
  /** Messages each connection handles at once (MQTT 5 Receive Maximum). */
  inflightPerConnection: number;
  sessionExpirySeconds: number;
  ingest: IngestService;
  /** The broker authenticated the device; here we only find its binding (and skip unknown or disabled devices). */
  lookupDevice: (deviceId: string) => Promise<AuthenticatedDevice | undefined>;
  /** Keeps an agent's heartbeat (`devices/{id}/heartbeat`, QoS 0), as the embedded broker does. */
  heartbeats: (device: AuthenticatedDevice, payload: Buffer) => Promise<unknown>;
  onRefused?: (deviceId: string, reason: string) => void;
  onError?: (error: Error) => void;
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
 * shared subscriptions, so several Gridshare processes share the load. Each PUBACK to the
 * broker is sent only after the group commit that stored the message; a crash before it makes
 * the broker deliver the message again.
 */
export async function startExternalIngest(options: ExternalIngestOptions): Promise<ExternalIngest> {
  const handle = async (topic: string, payload: Buffer): Promise<number> => {
    const parsed = parseDeviceTopic(topic);
    if (!parsed || (parsed.kind !== 'events' && parsed.kind !== 'frames' && parsed.kind !== 'heartbeat')) return NOT_AUTHORISED;
    const device = await options.lookupDevice(parsed.deviceId);
    if (!device) {
      options.onRefused?.(parsed.deviceId, 'unknown or disabled device');
      return NOT_AUTHORISED;
    }
    if (parsed.kind === 'heartbeat') {
      // QoS 0: nothing is acknowledged; one that cannot be kept is logged, the next replaces it.
      await options.heartbeats(device, payload).catch((error: Error) => options.onRefused?.(device.id, `heartbeat: ${error.message}`));
      return SUCCESS;
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

  const consumers = Array.from({ length: options.connections }, (_, i) => new MqttConsumer({
    url: options.url,
    clientId: `gridshare-${options.group}-${options.instanceId}-${i}`,
    topics: [`$share/${options.group}/devices/+/messages/events`, `$share/${options.group}/devices/+/frames/+`, `$share/${options.group}/devices/+/heartbeat`],
    receiveMaximum: options.inflightPerConnection,
    sessionExpirySeconds: options.sessionExpirySeconds,
    handle,
    onError: options.onError ?? ((error) => process.stderr.write(`gridshare: MQTT consumer: ${error.message}; reconnecting\n`)),
  }));
  const close = async () => {
    await Promise.all(consumers.map((c) => c.close()));
  };
  try {
    await Promise.all(consumers.map((c) => c.start()));
  } catch (error) {
    await close();
    throw error;
  }
  return { connected: () => consumers.every((c) => c.connected()), close };
}
