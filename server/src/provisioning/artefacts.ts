import { parse } from 'csv-parse/sync';
import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { formatConnectionString } from './connection-string.js';
import { topics } from '../kernel/topics.js';
import { renderQr } from './qr.js';
import { brokerPassword } from './broker-password.js';

/** Where devices reach this installation, as printed into their configuration. */
export interface Endpoints {
  /** Base URL of the web app and API, e.g. `https://energy.example.org`. */
  readonly publicUrl: string;
  /** MQTT URL devices connect to, e.g. `mqtts://energy.example.org:8883`. */
  readonly mqttUrl: string;
  /** Host name in connection strings and SAS resources. */
  readonly hostName: string;
}

export interface ProvisionedDevice {
  readonly id: string;
  readonly kind: string;
  readonly primaryKey: string;
  readonly claimCode: string;
}

export interface DeviceConfig {
  readonly deviceId: string;
  readonly kind: string;
  readonly connectionString: string;
  readonly mqtt: {
    readonly url: string;
    readonly clientId: string;
    readonly username: string;
    readonly password: string;
    /** The password for an external broker with a static password store (Mosquitto), with `username`. */
    readonly brokerPassword: string;
    readonly topics: { readonly events: string; readonly frames: string; readonly commands: string; readonly commandAck: string };
  };
  readonly http: { readonly readingsUrl: string; readonly commandsUrl: string; readonly authorization: string };
}

/** The page where a member claims a device by typing its code. */
export function claimPage(endpoints: Endpoints): string {
  return `${endpoints.publicUrl}/claim`;
}

/** What a sticker's QR code holds: the claim page with the code filled in. */
export function claimUrl(endpoints: Endpoints, code: string): string {
  return `${claimPage(endpoints)}?code=${encodeURIComponent(code)}`;
}

/** The file a reader is flashed with. It holds the key (in the connection string), never the claim code. */
export function deviceConfig(endpoints: Endpoints, device: Omit<ProvisionedDevice, 'claimCode'>): DeviceConfig {
  const connectionString = formatConnectionString({ hostName: endpoints.hostName, deviceId: device.id, sharedAccessKey: device.primaryKey });
  const tokenNote = 'a SAS token made from the connection string (gridshare token --connection-string …)';
  return {
    deviceId: device.id,
    kind: device.kind,
    connectionString,
    mqtt: {
      url: endpoints.mqttUrl,
      clientId: device.id,
      username: device.id,
      password: tokenNote,
      brokerPassword: brokerPassword(device.primaryKey, device.id),
      topics: {
        events: topics.events(device.id), frames: topics.frames(device.id, '{format}'),
        commands: topics.commands(device.id), commandAck: topics.commandAck(device.id),
      },
    },
    http: {
      readingsUrl: `${endpoints.publicUrl}/api/v1/devices/${device.id}/readings`,
      // Devices that only call in poll here for their commands and acknowledge at `${commandsUrl}/ack`.
      commandsUrl: `${endpoints.publicUrl}/api/v1/devices/${device.id}/commands`,
      authorization: tokenNote,
    },
  };
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

// Fixed timestamps keep the ZIP of the same batch byte-identical.
const ZIP_TIME = new Date('2026-01-01T00:00:00Z');

/**
 * Everything needed to flash a batch of readers on a bench: per device its configuration and
 * QR sticker (PNG and SVG, encoding only the claim URL), and a CSV manifest of the batch.
 */
export function batchZip(endpoints: Endpoints, devices: readonly ProvisionedDevice[], onProgress: (done: number) => void = () => undefined): Uint8Array {
  const files: Zippable = {};
  const manifest = ['device_id,kind,connection_string,claim_url'];
  for (const [index, device] of devices.entries()) {
    if (index % 500 === 0) onProgress(index);
    const config = deviceConfig(endpoints, device);
    const url = claimUrl(endpoints, device.claimCode);
    const qr = renderQr(url);
    files[`devices/${device.id}/config.json`] = [strToU8(JSON.stringify(config, null, 2)), { mtime: ZIP_TIME }];
    // PNG is already deflated: store it.
    files[`devices/${device.id}/qr.png`] = [qr.png, { level: 0, mtime: ZIP_TIME }];
    files[`devices/${device.id}/qr.svg`] = [strToU8(qr.svg), { mtime: ZIP_TIME }];
    manifest.push([device.id, device.kind, config.connectionString, url].map(csvField).join(','));
  }
  files['manifest.csv'] = [strToU8(`${manifest.join('\r\n')}\r\n`), { mtime: ZIP_TIME }];
  return zipSync(files, { level: 6 });
}

/** The batch ZIP without some devices (after a partial rollback): their keys and stickers leave no trace. */
export function zipWithoutDevices(zip: Uint8Array, removed: ReadonlySet<string>): Uint8Array {
  const files = unzipSync(zip);
  const kept: Zippable = {};
  for (const [name, content] of Object.entries(files)) {
    const match = /^devices\/([^/]+)\//.exec(name);
    if (match && removed.has(match[1]!)) continue;
    if (name === 'manifest.csv') {
      const lines = strFromU8(content).split('\r\n').filter((line) => !removed.has(line.split(',')[0]!));
      kept[name] = [strToU8(lines.join('\r\n')), { mtime: ZIP_TIME }];
    } else {
      kept[name] = [content, { mtime: ZIP_TIME, level: name.endsWith('.png') ? 0 : 6 }];
    }
  }
  return zipSync(kept);
}

/** One file of one device out of its batch ZIP. */
export function fileFromZip(zip: Uint8Array, path: string): Uint8Array | undefined {
  return unzipSync(zip, { filter: (file) => file.name === path })[path];
}

/**
 * The claim code of every device in a batch ZIP's manifest, in the order they were made. The ZIP
 * is the only place the codes are kept in the clear (the database has their hashes).
 */
export function claimCodesFromZip(zip: Uint8Array): { deviceId: string; claimCode: string }[] {
  const manifest = fileFromZip(zip, 'manifest.csv');
  if (!manifest) return [];
  const rows = parse(strFromU8(manifest), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return rows.flatMap((row) => {
    const code = URL.parse(row.claim_url ?? '')?.searchParams.get('code');
    return row.device_id && code ? [{ deviceId: row.device_id, claimCode: code }] : [];
  });
}
