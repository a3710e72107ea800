import mqtt, { type MqttClient } from 'mqtt';
import { parseConnectionString } from '../../src/provisioning/connection-string.js';
import { deviceResource, signSasToken } from '../../src/provisioning/sas.js';
import type { TestPlatform } from './platform.js';

export interface DeviceCredentials {
  deviceId: string;
  hostName: string;
  primaryKey: string;
  secondaryKey: string;
}

/** A device's keys as its manager downloads them (config.json). */
export async function deviceCredentials(tp: TestPlatform, token: string, deviceId: string): Promise<DeviceCredentials> {
  const config = await tp.call('GET', `/api/v1/devices/${deviceId}/config.json`, { token });
  if (config.status !== 200) throw new Error(`config.json: ${config.status} ${JSON.stringify(config.body)}`);
  const primary = parseConnectionString(config.body.connectionString);
  const secondary = parseConnectionString(config.body.secondaryConnectionString);
  return { deviceId, hostName: primary.hostName, primaryKey: primary.sharedAccessKey, secondaryKey: secondary.sharedAccessKey };
}

export function sasFor(credentials: DeviceCredentials, options: { key?: string; expiresAt?: Date } = {}): string {
  return signSasToken({
    resource: deviceResource(credentials.hostName, credentials.deviceId),
    key: options.key ?? credentials.primaryKey,
    expiresAt: options.expiresAt ?? new Date(Date.now() + 3_600_000),
  });
}

/** Connects as the device to the platform's embedded broker, like a reader in a home. */
export function connectDevice(tp: TestPlatform, deviceId: string, password: string, options: { protocolVersion?: 4 | 5 } = {}): Promise<MqttClient> {
  const url = tp.platform.mqttUrl.replace('localhost', '127.0.0.1');
  return mqtt.connectAsync(url, {
    clientId: deviceId, username: deviceId, password, protocolVersion: options.protocolVersion ?? 4, reconnectPeriod: 0, connectTimeout: 5_000,
  });
}

export const readingsMessage = (...readings: { ts: string; quantity: string; value: number; unit: string }[]) => JSON.stringify({ readings });
