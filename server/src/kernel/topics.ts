/** The MQTT topics of one device; a device may use only its own. */
export const topics = {
  events: (deviceId: string) => `devices/${deviceId}/messages/events`,
  frames: (deviceId: string, format: string) => `devices/${deviceId}/frames/${format}`,
  commands: (deviceId: string) => `devices/${deviceId}/commands`,
} as const;

export type DeviceTopic =
  | { kind: 'events'; deviceId: string }
  | { kind: 'frames'; deviceId: string; format: string }
  | { kind: 'commands'; deviceId: string };

const DEVICE_TOPIC = /^devices\/([A-Za-z0-9._-]{1,64})\/(?:(messages\/events)|frames\/([a-z0-9-]{1,20})|(commands))$/;

export function parseDeviceTopic(topic: string): DeviceTopic | undefined {
  const match = DEVICE_TOPIC.exec(topic);
  if (!match) return undefined;
  const deviceId = match[1]!;
  if (match[2]) return { kind: 'events', deviceId };
  if (match[3]) return { kind: 'frames', deviceId, format: match[3] };
  return { kind: 'commands', deviceId };
}
