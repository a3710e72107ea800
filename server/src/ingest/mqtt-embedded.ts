import type { AuthenticateHandler, AuthorizePublishHandler, AuthorizeSubscribeHandler, Client } from 'aedes';
import type { AuthenticatedDevice, IngestService } from './service.js';
import { parseDeviceTopic, topics } from '../kernel/topics.js';
import type { ConnectionGuard } from './connection-guard.js';
import { clientAddress } from '../platform/mqtt/embedded.js';

export interface EmbeddedIngestOptions {
  ingest: IngestService;
  /** Verifies the SAS token a device sends as its MQTT password; throws when it is not valid. */
  authenticate: (deviceId: string, password: string) => Promise<AuthenticatedDevice>;
  onRefused?: (device: AuthenticatedDevice, reason: string) => void;
  /** Records session takeovers and refuses reconnect storms, once a device's token checked out. */
  guard?: ConnectionGuard;
  /**
   * Takes a device's answer to its commands (`devices/{id}/commands/ack`, its own only); PUBACK once
   * it resolves, none when it rejects (not stored: the device sends it again).
   */
  commandAcks?: (device: AuthenticatedDevice, payload: Buffer) => Promise<unknown>;
  /** Keeps an agent's heartbeat (`devices/{id}/heartbeat`, QoS 0); a refused one is only logged. */
  heartbeats?: (device: AuthenticatedDevice, payload: Buffer) => Promise<unknown>;
}

export interface EmbeddedIngestHandlers {
  authenticate: AuthenticateHandler;
  authorizePublish: AuthorizePublishHandler;
  authorizeSubscribe: AuthorizeSubscribeHandler;
}

/** MQTT CONNACK return code 5 (3.1.1) / 0x87 (5): not authorised. */
const NOT_AUTHORISED = 5;
/** MQTT CONNACK return code 3: server unavailable, for a device that reconnects too often. */
const SERVER_UNAVAILABLE = 3;

/**
 * Consumes the embedded broker in-process: readings are stored inside authorizePublish, and the
 * broker sends PUBACK only when that callback runs — after the group commit. A crash before
 * then leaves the message unacknowledged, and the device sends it again.
 */
export function embeddedIngestHandlers(options: EmbeddedIngestOptions): EmbeddedIngestHandlers {
  const devices = new WeakMap<Client, AuthenticatedDevice>();

  const authenticate: AuthenticateHandler = (client, username, password, callback) => {
    const refuse = (message: string) => callback(Object.assign(new Error(message), { returnCode: NOT_AUTHORISED }), false);
    if (!username || !password || client.id !== username) {
      refuse('connect with client id = username = device id and a SAS token as password');
      return;
    }
    options.authenticate(username, password.toString('utf8')).then(
      (device) => {
        if (options.guard && !options.guard.admit(device, clientAddress(client))) {
          callback(Object.assign(new Error('this device connects too often; wait a minute and connect again'), { returnCode: SERVER_UNAVAILABLE }), false);
          return;
        }
        devices.set(client, device);
        callback(null, true);
      },
      (error: Error) => refuse(error.message),
    );
  };

  const authorizePublish: AuthorizePublishHandler = (client, packet, callback) => {
    const device = client ? devices.get(client) : undefined;
    const topic = parseDeviceTopic(packet.topic);
    const acks = options.commandAcks;
    const heartbeats = options.heartbeats;
    if (!device || !topic || topic.deviceId !== device.id || topic.kind === 'commands' || (topic.kind === 'command-ack' && !acks) || (topic.kind === 'heartbeat' && !heartbeats)) {
      callback(new Error(`device may not publish to ${packet.topic}`));
      return;
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (topic.kind === 'command-ack') {
      acks?.(device, payload).then(() => callback(null), (error: Error) => callback(error));
      return;
    }
    if (topic.kind === 'heartbeat') {
      // A heartbeat that cannot be kept is not worth the connection: the next one replaces it.
      heartbeats?.(device, payload).then(() => callback(null), (error: Error) => {
        options.onRefused?.(device, `heartbeat: ${error.message}`);
        callback(null);
      });
      return;
    }
    const outcome = topic.kind === 'events'
      ? options.ingest.ingestJson(device, payload)
      : options.ingest.ingestFrame(device, topic.format, payload);
    outcome.then(
      (result) => {
        // A refused message is acknowledged too (it is counted and visible per device): resending
        // it could never succeed and would only block the device's queue.
        if (result.status === 'refused') options.onRefused?.(device, `${result.rejection.code}: ${result.rejection.message}`);
        callback(null);
      },
      // Not stored (database down): no PUBACK, the connection drops, the device resends.
      (error: Error) => callback(error),
    );
  };

  const authorizeSubscribe: AuthorizeSubscribeHandler = (client, subscription, callback) => {
    const device = client ? devices.get(client) : undefined;
    if (device && subscription.topic === topics.commands(device.id)) callback(null, subscription);
    else callback(new Error(`device may not subscribe to ${subscription.topic}`), null);
  };

  return { authenticate, authorizePublish, authorizeSubscribe };
}
