import mqtt, { type MqttClient } from 'mqtt';
import { randomUUID } from 'node:crypto';
import { queuedMessagesPerSession, type OutageSizing } from './domain/queue-sizing.js';

export interface BrokerCheckOptions {
  /** The broker as Gridshare's consumers reach it (with their credentials). */
  url: string;
  sizing: OutageSizing;
  /** How long the probe waits for queued messages to arrive once it is back (default 2 s of quiet). */
  quietMs?: number;
}

const PROBE_TOPIC = 'gridshare/probe';

function withoutCredentials(url: string): string {
  const bare = new URL(url);
  bare.username = '';
  bare.password = '';
  return bare.toString();
}

async function acceptsAnonymous(url: string): Promise<boolean> {
  try {
    const client = await mqtt.connectAsync(withoutCredentials(url), { protocolVersion: 5, clientId: `gridshare-anon-${randomUUID()}`, reconnectPeriod: 0, connectTimeout: 5_000 });
    await client.endAsync(true);
    return true;
  } catch {
    return false;
  }
}

const connectProbe = (url: string, clientId: string, clean: boolean) =>
  mqtt.connectAsync(url, { protocolVersion: 5, clientId, clean, reconnectPeriod: 0, connectTimeout: 5_000, properties: { sessionExpiryInterval: 120 } });

/**
 * Sends `count` QoS 1 messages to a session while it is disconnected, then counts what the broker
 * kept for it. Returns undefined when the broker does not let Gridshare's account probe.
 */
async function queuedForOfflineSession(url: string, count: number, quietMs: number): Promise<number | undefined> {
  const clientId = `gridshare-probe-${randomUUID()}`;
  const topic = `${PROBE_TOPIC}/${clientId}`;
  const subscriber = await connectProbe(url, clientId, true);
  const allowed = await subscriber.subscribeAsync(topic, { qos: 1 }).then(() => true, () => false);
  await subscriber.endAsync();
  if (!allowed) return undefined;
  const publisher = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: `${clientId}-pub`, reconnectPeriod: 0 });
  try {
    const payload = Buffer.alloc(64);
    for (let sent = 0; sent < count; sent += 500) {
      await Promise.all(Array.from({ length: Math.min(500, count - sent) }, () => publisher.publishAsync(topic, payload, { qos: 1 })));
    }
  } finally {
    await publisher.endAsync();
  }
  let received = 0;
  let back: MqttClient | undefined;
  // Done when all arrived, or when none came for quietMs (the broker kept no more).
  await new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const quiet = () => {
      clearTimeout(timer);
      timer = setTimeout(resolve, quietMs);
    };
    // Listening before the CONNACK: the broker sends the queue right behind it.
    const client = mqtt.connect(url, { protocolVersion: 5, clientId, clean: false, reconnectPeriod: 0, connectTimeout: 5_000, properties: { sessionExpiryInterval: 120 } });
    back = client;
    client.on('message', () => {
      received++;
      if (received >= count) {
        clearTimeout(timer);
        resolve();
      } else quiet();
    });
    client.once('connect', quiet);
    client.once('error', reject);
  });
  // Gone with this connection: the probe leaves no session behind.
  await back?.endAsync(false, { properties: { sessionExpiryInterval: 0 } });
  return received;
}

/**
 * What Gridshare can tell at start about an external broker losing messages. It can see: that the
 * broker lets anonymous clients in; how many messages it keeps for a disconnected session (it
 * probes with as many as the outage sizing needs). It cannot see whether the broker persists its
 * queues across its own restart, nor limits that only bite under memory pressure.
 */
export async function checkBroker(options: BrokerCheckOptions): Promise<string[]> {
  const warnings: string[] = [];
  if (await acceptsAnonymous(options.url)) {
    warnings.push('the MQTT broker lets anonymous clients connect: anyone who reaches it may publish (set allow_anonymous false; see deploy/mosquitto)');
  }
  const needed = queuedMessagesPerSession(options.sizing);
  const kept = await queuedForOfflineSession(options.url, needed, options.quietMs ?? 2_000).catch((error: Error) => error);
  if (kept instanceof Error) warnings.push(`the broker's offline queue could not be probed: ${kept.message}`);
  else if (kept === undefined) warnings.push(`the broker's offline queue could not be probed: Gridshare's account may not use ${PROBE_TOPIC}/#`);
  else if (kept < needed) {
    const { messagesPerSecond, outageSeconds, sessions } = options.sizing;
    warnings.push(`the broker kept ${kept} of ${needed} messages for a disconnected session: an outage of ${outageSeconds} s at ${messagesPerSecond} readings/s over ${sessions} sessions would lose readings; raise max_queued_messages to at least ${needed} (and max_queued_bytes; see deploy/mosquitto)`);
  }
  return warnings;
}
