import { BAUD_RATES, meterProfile, profileNames, type LineSettings, type MeterProfile, type Parity } from './profiles.js';
import type { Language } from './catalog.js';
import { LOG_LEVELS, type LogLevel } from './log-level.js';
import { LocalDeviceError, parseLocalDevices, type LocalDevice } from './local-devices.js';

/**
 * agent.json: the configuration file a provisioning batch produced for the device (its id,
 * connection string, MQTT and HTTP endpoints), with the agent's own section under "agent"
 * (meter, store, uplink, local page). The agent writes changes from its local page back to the
 * same file, so the file is the one place a device's setup lives.
 */
export interface AgentConfig {
  readonly deviceId: string;
  readonly connectionString: string;
  readonly secondaryConnectionString?: string | undefined;
  readonly mqtt: { readonly url: string; readonly topics: { readonly events: string; readonly frames: string; readonly commands: string; readonly commandAck: string } };
  /** Commands are polled at `commandsUrl` and answered at `${commandsUrl}/ack` when MQTT is blocked. */
  readonly http: { readonly readingsUrl: string; readonly commandsUrl: string };
  readonly agent: AgentSection;
}

export interface MeterSettings {
  /** Serial device, e.g. /dev/ttyUSB0; unset until chosen on the local page. */
  readonly port?: string | undefined;
  readonly profile: string;
  /** Overrides of the profile's line settings. */
  readonly line?: Partial<LineSettings> | undefined;
  /** AES-128 key (32 hex digits) from the grid operator's portal; kept on the device. */
  readonly key?: string | undefined;
  readonly authKey?: string | undefined;
  /** decode: readings JSON decoded here; forward: raw frames, decoded by the platform with the keys stored there. */
  readonly mode: 'decode' | 'forward';
  /** For mode C meters: how often to ask for a readout. */
  readonly pollIntervalSeconds: number;
  /** Keep at most one frame per this many seconds (0: every frame; a DSMR 5 meter sends one a second). */
  readonly minFrameIntervalSeconds: number;
}

export interface AgentSection {
  readonly meter: MeterSettings;
  readonly store: { readonly path?: string | undefined; readonly maxBytes: number };
  readonly uplink: {
    /** Bounded backlog drain after an outage. */
    readonly drainReadingsPerSecond: number;
    /** Switch to HTTP when MQTT has not connected for this long. */
    readonly httpFallbackAfterSeconds: number;
    readonly tokenTtlSeconds: number;
    readonly heartbeatSeconds: number;
    /** Publish the heartbeat on devices/{id}/heartbeat (a platform that reads it; see README). */
    readonly heartbeatOverMqtt: boolean;
  };
  readonly web: { readonly enabled: boolean; readonly host: string; readonly port: number; readonly pin?: string | undefined; readonly language: Language };
  readonly control: {
    /** Local devices go to their safe state when the platform has been unreachable for longer. */
    readonly fallbackAfterSeconds: number;
    /** How often commands are polled over HTTP while MQTT is not connected. */
    readonly pollSeconds: number;
  };
  readonly connectors: readonly LocalDevice[];
  readonly mdns: boolean;
  readonly logLevel: LogLevel;
  /** The QR sticker's claim URL, shown on the local page so a member can claim the reader. */
  readonly claimUrl?: string | undefined;
}

export class AgentConfigError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'AgentConfigError';
  }
}

export const DEFAULT_WEB_PORT = 8475;
const MIB = 1024 * 1024;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function object(value: unknown, path: string, optional = false): Json {
  if (value === undefined && optional) return {};
  if (!isObject(value)) throw new AgentConfigError(path, 'must be an object');
  return value;
}

function text(value: unknown, path: string, pattern?: RegExp, hint?: string): string {
  if (typeof value !== 'string' || value === '') throw new AgentConfigError(path, 'must be a non-empty string');
  if (value.length > 2048) throw new AgentConfigError(path, 'is too long');
  if (pattern && !pattern.test(value)) throw new AgentConfigError(path, hint ?? `does not match ${pattern}`);
  return value;
}

function optionalText(value: unknown, path: string, pattern?: RegExp, hint?: string): string | undefined {
  return value === undefined || value === null || value === '' ? undefined : text(value, path, pattern, hint);
}

function integer(value: unknown, path: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new AgentConfigError(path, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function flag(value: unknown, path: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new AgentConfigError(path, 'must be true or false');
  return value;
}

function oneOf<T extends string>(value: unknown, path: string, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) throw new AgentConfigError(path, `must be one of ${choices.join(', ')}`);
  return value as T;
}

function url(value: unknown, path: string, schemes: readonly string[]): string {
  const raw = text(value, path);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new AgentConfigError(path, 'is not a URL');
  }
  if (!schemes.includes(parsed.protocol.replace(/:$/, ''))) throw new AgentConfigError(path, `must be a ${schemes.join(' or ')} URL`);
  return raw;
}

export const HEX_KEY = /^[0-9a-fA-F]{32}$/;
const DEVICE_ID = /^[A-Za-z0-9._-]{1,64}$/;

function lineOverrides(value: unknown, path: string): Partial<LineSettings> | undefined {
  if (value === undefined) return undefined;
  const raw = object(value, path);
  const out: { -readonly [K in keyof LineSettings]?: LineSettings[K] } = {};
  if (raw.baudRate !== undefined) {
    if (!BAUD_RATES.includes(raw.baudRate as number)) throw new AgentConfigError(`${path}/baudRate`, `must be one of ${BAUD_RATES.join(', ')}`);
    out.baudRate = raw.baudRate as number;
  }
  if (raw.dataBits !== undefined) out.dataBits = integer(raw.dataBits, `${path}/dataBits`, 8, 7, 8) as 7 | 8;
  if (raw.parity !== undefined) out.parity = oneOf<Parity>(raw.parity, `${path}/parity`, ['none', 'even', 'odd'], 'none');
  if (raw.stopBits !== undefined) out.stopBits = integer(raw.stopBits, `${path}/stopBits`, 1, 1, 2) as 1 | 2;
  return out;
}

export function parseMeterSettings(value: unknown, path = 'agent/meter'): MeterSettings {
  const raw = object(value, path, true);
  const profile = oneOf(raw.profile, `${path}/profile`, profileNames(), 'dsmr-p1');
  return {
    port: optionalText(raw.port, `${path}/port`, /^(?!.*\.\.)\/[A-Za-z0-9._/:+-]+$/, 'must be the absolute path of a serial device, e.g. /dev/ttyUSB0 or /dev/serial/by-id/…'),
    profile,
    line: lineOverrides(raw.line, `${path}/line`),
    key: optionalText(raw.key, `${path}/key`, HEX_KEY, 'must be 32 hex digits (AES-128)'),
    authKey: optionalText(raw.authKey, `${path}/authKey`, HEX_KEY, 'must be 32 hex digits (AES-128)'),
    mode: oneOf(raw.mode, `${path}/mode`, ['decode', 'forward'] as const, 'decode'),
    pollIntervalSeconds: integer(raw.pollIntervalSeconds, `${path}/pollIntervalSeconds`, 60, 5, 86_400),
    minFrameIntervalSeconds: integer(raw.minFrameIntervalSeconds, `${path}/minFrameIntervalSeconds`, 0, 0, 3_600),
  };
}

function localDevices(value: unknown): LocalDevice[] {
  try {
    return parseLocalDevices(value);
  } catch (error) {
    if (error instanceof LocalDeviceError) throw new AgentConfigError(error.path, error.problem);
    throw error;
  }
}

/** Validates agent.json (already parsed from JSON); the first problem is reported with its path. */
export function parseAgentConfig(value: unknown): AgentConfig {
  const raw = object(value, '');
  const deviceId = text(raw.deviceId, 'deviceId', DEVICE_ID, 'is not a device id');
  const connectionString = text(raw.connectionString, 'connectionString');
  if (!connectionString.includes(`DeviceId=${deviceId};`)) throw new AgentConfigError('connectionString', `is not the connection string of device ${deviceId}`);
  const mqtt = object(raw.mqtt, 'mqtt');
  const topics = object(mqtt.topics, 'mqtt/topics');
  const http = object(raw.http, 'http');
  const agent = object(raw.agent, 'agent', true);
  const store = object(agent.store, 'agent/store', true);
  const uplink = object(agent.uplink, 'agent/uplink', true);
  const web = object(agent.web, 'agent/web', true);
  const control = object(agent.control, 'agent/control', true);
  const readingsUrl = url(http.readingsUrl, 'http/readingsUrl', ['http', 'https']);
  const ownTopic = (name: string, expected: string) => {
    const topic = text(topics[name], `mqtt/topics/${name}`);
    if (topic !== expected) throw new AgentConfigError(`mqtt/topics/${name}`, `must be ${expected}`);
    return topic;
  };
  return {
    deviceId,
    connectionString,
    secondaryConnectionString: optionalText(raw.secondaryConnectionString, 'secondaryConnectionString'),
    mqtt: {
      url: url(mqtt.url, 'mqtt/url', ['mqtt', 'mqtts', 'ws', 'wss']),
      topics: {
        events: ownTopic('events', `devices/${deviceId}/messages/events`),
        frames: ownTopic('frames', `devices/${deviceId}/frames/{format}`),
        commands: ownTopic('commands', `devices/${deviceId}/commands`),
        // Config files from before commands were acknowledged do not name it; there is only one.
        commandAck: topics.commandAck === undefined ? `devices/${deviceId}/commands/ack` : ownTopic('commandAck', `devices/${deviceId}/commands/ack`),
      },
    },
    http: {
      readingsUrl,
      commandsUrl: http.commandsUrl === undefined ? readingsUrl.replace(/\/readings$/, '/commands') : url(http.commandsUrl, 'http/commandsUrl', ['http', 'https']),
    },
    agent: {
      meter: parseMeterSettings(agent.meter),
      store: {
        path: optionalText(store.path, 'agent/store/path'),
        maxBytes: integer(store.maxBytes, 'agent/store/maxBytes', 256 * MIB, 64 * 1024, 64 * 1024 * MIB),
      },
      uplink: {
        drainReadingsPerSecond: integer(uplink.drainReadingsPerSecond, 'agent/uplink/drainReadingsPerSecond', 2_000, 10, 1_000_000),
        httpFallbackAfterSeconds: integer(uplink.httpFallbackAfterSeconds, 'agent/uplink/httpFallbackAfterSeconds', 120, 1, 86_400),
        tokenTtlSeconds: integer(uplink.tokenTtlSeconds, 'agent/uplink/tokenTtlSeconds', 86_400, 300, 30 * 86_400),
        heartbeatSeconds: integer(uplink.heartbeatSeconds, 'agent/uplink/heartbeatSeconds', 60, 1, 86_400),
        heartbeatOverMqtt: flag(uplink.heartbeatOverMqtt, 'agent/uplink/heartbeatOverMqtt', true),
      },
      web: {
        enabled: flag(web.enabled, 'agent/web/enabled', true),
        host: optionalText(web.host, 'agent/web/host', /^[0-9a-fA-F.:]+$/, 'must be an IP address') ?? '0.0.0.0',
        port: integer(web.port, 'agent/web/port', DEFAULT_WEB_PORT, 0, 65_535),
        pin: optionalText(web.pin, 'agent/web/pin', /^\d{6,12}$/, 'must be 6 to 12 digits'),
        language: oneOf(web.language, 'agent/web/language', ['en', 'de'] as const, 'en'),
      },
      control: {
        fallbackAfterSeconds: integer(control.fallbackAfterSeconds, 'agent/control/fallbackAfterSeconds', 300, 10, 7 * 86_400),
        pollSeconds: integer(control.pollSeconds, 'agent/control/pollSeconds', 30, 1, 3_600),
      },
      connectors: localDevices(agent.connectors),
      mdns: flag(agent.mdns, 'agent/mdns', true),
      logLevel: oneOf(agent.logLevel, 'agent/logLevel', LOG_LEVELS, 'info'),
      claimUrl: optionalText(agent.claimUrl, 'agent/claimUrl'),
    },
  };
}

/** The profile with the config's line overrides applied. */
export function effectiveProfile(meter: MeterSettings): MeterProfile {
  const profile = meterProfile(meter.profile)!;
  return { ...profile, line: { ...profile.line, ...meter.line } };
}
