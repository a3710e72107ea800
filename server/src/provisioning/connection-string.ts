/** `HostName=<host>;DeviceId=<id>;SharedAccessKey=<key>`, as IoT Hub device SDKs read it. */
export interface ConnectionString {
  readonly hostName: string;
  readonly deviceId: string;
  readonly sharedAccessKey: string;
}

export class ConnectionStringError extends Error {}

export function formatConnectionString(cs: ConnectionString): string {
  return `HostName=${cs.hostName};DeviceId=${cs.deviceId};SharedAccessKey=${cs.sharedAccessKey}`;
}

const KNOWN = new Set(['HostName', 'DeviceId', 'SharedAccessKey']);

export function parseConnectionString(text: string): ConnectionString {
  const fields = new Map<string, string>();
  for (const part of text.trim().split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConnectionStringError(`"${part}" is not Name=value`);
    const name = part.slice(0, eq);
    // Base64 keys end in '=': only the first '=' separates name and value.
    const value = part.slice(eq + 1);
    if (!KNOWN.has(name)) throw new ConnectionStringError(`unknown field ${name}`);
    if (fields.has(name)) throw new ConnectionStringError(`${name} appears twice`);
    if (value === '') throw new ConnectionStringError(`${name} is empty`);
    fields.set(name, value);
  }
  const hostName = fields.get('HostName');
  const deviceId = fields.get('DeviceId');
  const sharedAccessKey = fields.get('SharedAccessKey');
  if (!hostName || !deviceId || !sharedAccessKey) {
    throw new ConnectionStringError('a device connection string has HostName, DeviceId and SharedAccessKey');
  }
  if (Buffer.from(sharedAccessKey, 'base64').length < 16) throw new ConnectionStringError('SharedAccessKey is not a base64 key');
  return { hostName, deviceId, sharedAccessKey };
}
