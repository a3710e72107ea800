/**
 * The devices file of `gridshare simulate`: which devices to impersonate, their credentials
 * and what each one meters.
 *
 *   [ { "deviceId": "demo-001", "connectionString": "HostName=…;DeviceId=demo-001;SharedAccessKey=…",
 *       "site": { "kind": "household", "name": "Sunny Street 1" } }, … ]
 *
 * `readings` (optional): `all` (default), `grid` (import and export only) or `pv` (a PV
 * inverter: PV only); devices that share a site describe it alike.
 *
 * (An object `{ "devices": [ … ] }` is accepted too.)
 */
import { DEVICE_READINGS, sitesOfDevices, validateSites, type DeviceReadings, type SiteSpec } from './sites.js';

export interface DeviceEntry {
  readonly deviceId: string;
  readonly connectionString: string;
  readonly site: SiteSpec;
  /** What the device reports of its site (default all); devices sharing a site (a meter and a PV inverter) describe it alike. */
  readonly readings?: DeviceReadings;
}

/** The platform's device id syntax (see ingest/routes.ts). */
const DEVICE_ID = /^[A-Za-z0-9._-]{1,64}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalNumber(site: Record<string, unknown>, key: string, at: string): number | undefined {
  const value = site[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw new TypeError(`${at}/site/${key}: must be a number`);
  return value;
}

function requiredNumber(site: Record<string, unknown>, key: string, at: string): number {
  const value = optionalNumber(site, key, at);
  if (value === undefined) throw new TypeError(`${at}/site/${key}: required`);
  return value;
}

function parseSite(raw: unknown, at: string): SiteSpec {
  if (!isRecord(raw)) throw new TypeError(`${at}/site: must be an object with kind and name`);
  const { kind, name } = raw;
  if (typeof name !== 'string') throw new TypeError(`${at}/site/name: must be a string`);
  switch (kind) {
    case 'household': {
      const pvPeakW = optionalNumber(raw, 'pvPeakW', at);
      const evChargerW = optionalNumber(raw, 'evChargerW', at);
      const annualKWh = optionalNumber(raw, 'annualKWh', at);
      return {
        kind, name,
        ...(pvPeakW !== undefined ? { pvPeakW } : {}),
        ...(evChargerW !== undefined ? { evChargerW } : {}),
        ...(annualKWh !== undefined ? { annualKWh } : {}),
      };
    }
    case 'library':
      return { kind, name, pvPeakW: requiredNumber(raw, 'pvPeakW', at) };
    case 'battery':
      return { kind, name, capacityWh: requiredNumber(raw, 'capacityWh', at), maxPowerW: requiredNumber(raw, 'maxPowerW', at) };
    default:
      throw new TypeError(`${at}/site/kind: one of household, library, battery`);
  }
}

/** Parses and checks the file's JSON text; errors name the entry and field. */
export function parseDevicesFile(text: string): DeviceEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new TypeError(`not valid JSON: ${(error as Error).message}`);
  }
  const list = isRecord(parsed) ? parsed.devices : parsed;
  if (!Array.isArray(list) || list.length === 0) throw new TypeError('expected a non-empty array of { deviceId, connectionString, site }');
  const entries = list.map((raw, index): DeviceEntry => {
    const at = `devices[${index}]`;
    if (!isRecord(raw)) throw new TypeError(`${at}: must be an object`);
    const { deviceId, connectionString } = raw;
    if (typeof deviceId !== 'string' || !DEVICE_ID.test(deviceId)) throw new TypeError(`${at}/deviceId: 1–64 of A–Z a–z 0–9 . _ -`);
    if (typeof connectionString !== 'string' || connectionString.length === 0) throw new TypeError(`${at}/connectionString: must be a string`);
    const { readings } = raw;
    if (readings !== undefined && !(DEVICE_READINGS as readonly unknown[]).includes(readings)) throw new TypeError(`${at}/readings: one of ${DEVICE_READINGS.join(', ')}`);
    return { deviceId, connectionString, site: parseSite(raw.site, at), ...(readings !== undefined ? { readings: readings as DeviceReadings } : {}) };
  });
  const ids = new Set<string>();
  for (const entry of entries) {
    if (ids.has(entry.deviceId)) throw new TypeError(`device ${entry.deviceId} is listed twice`);
    ids.add(entry.deviceId);
  }
  validateSites(sitesOfDevices(entries).sites);
  return entries;
}
