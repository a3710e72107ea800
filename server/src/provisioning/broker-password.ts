import { createHmac } from 'node:crypto';

/**
 * A device's password for an external broker that keeps a static password store (Mosquitto's
 * dynamic-security plugin cannot check a SAS token, which changes with every expiry): an
 * HMAC-SHA256 of the device id under one of its keys, base64url. Whoever holds the key derives it
 * (the agent does), it opens only this device, and rotating the key changes it.
 */
export function brokerPassword(key: string, deviceId: string): string {
  return createHmac('sha256', Buffer.from(key, 'base64')).update(`gridshare-broker-password\n${deviceId}`).digest('base64url');
}

/**
 * The broker user names of a device's two keys: the primary's is the device id, the secondary's
 * the id with `:secondary` (a colon never occurs in a device id), so a device can move to its
 * secondary key while the primary is rotated. Both connect with the device id as client id.
 */
export function brokerUsername(deviceId: string, slot: 'primary' | 'secondary'): string {
  return slot === 'primary' ? deviceId : `${deviceId}:secondary`;
}
