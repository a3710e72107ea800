/** The MQTT topics of one device; a device may use only its own. */
export const topics = {
  events: (deviceId: string) => `devices/${deviceId}/messages/events`,
  frames: (deviceId: string, format: string) => `devices/${deviceId}/frames/${format}`,
  commands: (deviceId: string) => `devices/${deviceId}/commands`,
  /** Where the device answers its commands (and reports an override). */
  commandAck: (deviceId: string) => `devices/${deviceId}/commands/ack`,
  /** Where `gridshare agent` reports its health (the platform keeps the last one). */
  heartbeat: (deviceId: string) => `devices/${deviceId}/heartbeat`,
} as const;

export type DeviceTopic =
  | { kind: 'events'; deviceId: string }
  | { kind: 'frames'; deviceId: string; format: string }
  | { kind: 'commands'; deviceId: string }
  | { kind: 'command-ack'; deviceId: string }
  | { kind: 'heartbeat'; deviceId: string };

const DEVICE_TOPIC = /^devices\/([A-Za-z0-9._-]{1,64})\/(?:(messages\/events)|frames\/([a-z0-9-]{1,20})|(commands\/ack)|(commands)|(heartbeat))$/;

export function parseDeviceTopic(topic: string): DeviceTopic | undefined {
  const match = DEVICE_TOPIC.exec(topic);
  if (!match) return undefined;
  const deviceId = match[1]!;
  if (match[2]) return { kind: 'events', deviceId };
  if (match[3]) return { kind: 'frames', deviceId, format: match[3] };
  if (match[4]) return { kind: 'command-ack', deviceId };
  if (match[6]) return { kind: 'heartbeat', deviceId };
  return { kind: 'commands', deviceId };
}
