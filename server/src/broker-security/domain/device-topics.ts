import { parseDeviceTopic, topics } from '../../kernel/topics.js';

/** The device a broker user name stands for: its id, or its id with `:secondary` for its secondary key. */
export function deviceOfUsername(username: string): { deviceId: string; slot: 'primary' | 'secondary' } {
  return username.endsWith(':secondary')
    ? { deviceId: username.slice(0, -':secondary'.length), slot: 'secondary' }
    : { deviceId: username, slot: 'primary' };
}

/**
 * The same rule the embedded broker and the Mosquitto roles apply: a device publishes its readings,
 * frames and command answers, and subscribes to its commands — on its own topics only.
 */
export function deviceMayUse(deviceId: string, action: 'publish' | 'subscribe', topic: string): boolean {
  if (action === 'subscribe') return topic === topics.commands(deviceId);
  const parsed = parseDeviceTopic(topic);
  return parsed !== undefined && parsed.deviceId === deviceId && parsed.kind !== 'commands';
}
