import { readFileSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { decodeFrame, FrameError } from '../meters/index.js';
import { effectiveProfile, HEX_KEY, parseMeterSettings } from './domain/config.js';
import { LineHealth, buildHeartbeat, heartbeatTopic, type Heartbeat } from './domain/health.js';
import { meterProfiles } from './domain/profiles.js';
import { parseClaim, type Claim } from './domain/claim.js';
import { LANGUAGES, type Language } from './domain/catalog.js';
import { ensurePin, section, storePath, updateAgentSection, type ConfigFile } from './config-file.js';
import { OutboxStore } from './store.js';
import { SerialSource } from './serial-source.js';
import { Uplink } from './uplink.js';
import { LocalControl } from './local-control.js';
import { LocalWeb } from './local-web.js';
import { advertise } from './mdns.js';
import { createLogger, type Logger } from './log.js';

import type { Reading } from '../kernel/quantities.js';
export const AGENT_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface AgentOptions {
  /** Override the config's local page (tests run several agents; 0 picks a free port). */
  readonly web?: { readonly enabled: boolean; readonly port?: number; readonly host?: string } | undefined;
  readonly mdns?: boolean | undefined;
  readonly log?: Logger | undefined;
  /** The clock of command expiry and the safe fallback (tests move it). */
  readonly now?: (() => number) | undefined;
}

export interface RunningAgent {
  status(): Heartbeat;
  /** Runs the command checks' pass now (the fallback decision, unsent answers, a due poll); it also runs every second. */
  controlTick(): Promise<void>;
  /**
   * Readings of a meter in the same process (the demo's simulated households): kept and queued
   * as a decoded frame's are, then sent by the same uplink.
   */
  record(readings: readonly Reading[]): void;
  readonly webPort: number | undefined;
  readonly pin: string;
  close(): Promise<void>;
}

/**
 * The device agent: meter → frames → (decoded with the key kept here, or raw) → local queue →
 * platform. Everything is committed to the queue before it is sent.
 */
export async function startAgent(file: ConfigFile, options: AgentOptions = {}): Promise<RunningAgent> {
  const config = file.config;
  const log = options.log ?? createLogger(config.agent.logLevel);
  const startedAtMs = Date.now();
  const store = new OutboxStore(storePath(file), config.agent.store.maxBytes);
  const line = new LineHealth();
  let serialOpen = false;
  let latest: Reading[] = [];
  let lastKeptAtMs = 0;
  const control = new LocalControl(config, store, log, options.now ?? Date.now, (level) => { log.level = level; });
  const uplink = new Uplink(config, store, log, (payload) => void control.receive(payload), () => control.contact());
  control.attach(uplink);

  const onFrame = (frame: Uint8Array, receivedAtMs: number) => {
    const meter = file.config.agent.meter;
    const profile = effectiveProfile(meter);
    if (meter.minFrameIntervalSeconds > 0 && receivedAtMs - lastKeptAtMs < meter.minFrameIntervalSeconds * 1000) return;
    let readings: Reading[];
    try {
      readings = decodeFrame(frame, {
        format: profile.format,
        key: meter.key ? Buffer.from(meter.key, 'hex') : undefined,
        authKey: meter.authKey ? Buffer.from(meter.authKey, 'hex') : undefined,
        receivedAt: new Date(receivedAtMs),
      }).readings;
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      // A frame the agent cannot read with its key may still be forwarded for the platform to decode.
      if (error.code === 'crc' || error.code === 'auth-tag') line.checksumErrors += 1;
      else if (meter.mode !== 'forward' || error.code !== 'key-required') line.frameErrors += 1;
      log.debug(`frame refused: ${error.code}: ${error.message}`);
      if (meter.mode !== 'forward' || error.code !== 'key-required') return;
      readings = [];
    }
    keep(readings, receivedAtMs, meter.mode === 'forward' ? { format: profile.format, frame } : undefined);
  };
  /** A frame kept: counted on the line, its readings (or the raw frame) committed to the queue, then the uplink is woken. */
  const keep = (readings: readonly Reading[], receivedAtMs: number, raw?: { format: string; frame: Uint8Array }) => {
    line.frame(receivedAtMs);
    lastKeptAtMs = receivedAtMs;
    if (readings.length > 0) latest = [...readings];
    if (raw) store.append(raw.format, receivedAtMs, Math.max(1, readings.length), raw.frame);
    else if (readings.length > 0) store.append('readings', readings.reduce((min, r) => Math.min(min, Date.parse(r.ts)), Infinity), readings.length, JSON.stringify(readings));
    uplink.nudge();
  };

  let source: SerialSource | undefined;
  const startSource = () => {
    const meter = file.config.agent.meter;
    if (!meter.port) {
      log.info('no serial port configured yet: choose one on the local page');
      return;
    }
    source = new SerialSource({
      path: meter.port,
      profile: effectiveProfile(meter),
      pollIntervalMs: meter.pollIntervalSeconds * 1000,
      onFrame,
      onSkipped: (bytes) => { line.skippedBytes += bytes; },
      onOpen: (open) => { serialOpen = open; },
      log,
    });
    source.start();
  };
  const restartSource = async () => {
    await source?.stop();
    source = undefined;
    serialOpen = false;
    startSource();
  };

  const status = (): Heartbeat => buildHeartbeat({
    deviceId: config.deviceId,
    version: AGENT_VERSION,
    nowMs: Date.now(),
    startedAtMs,
    logLevel: log.level,
    queue: store.stats(),
    serial: { port: file.config.agent.meter.port, profile: file.config.agent.meter.profile, open: serialOpen, line },
    uplink: uplink.state,
    control: control.state,
  });

  const heartbeat = setInterval(() => {
    const beat = status();
    log.debug(`heartbeat ${JSON.stringify(beat)}`);
    if (file.config.agent.uplink.heartbeatOverMqtt) uplink.publish(heartbeatTopic(config.deviceId), JSON.stringify(beat));
  }, config.agent.uplink.heartbeatSeconds * 1000);

  const claim = claimOf(file, log);
  const pin = ensurePin(file);
  const webSettings = { ...config.agent.web, ...options.web };
  let web: LocalWeb | undefined;
  let webPort: number | undefined;
  let mdns: { stop(): Promise<void> } | undefined;
  if (webSettings.enabled) {
    web = new LocalWeb({
      host: webSettings.host,
      port: webSettings.port,
      pin,
      deviceId: config.deviceId,
      language: () => file.config.agent.web.language,
      status,
      view: async () => ({
        readings: latest,
        claim,
        settings: {
          ports: (await SerialPort.list().catch(() => [])).map((p) => p.path),
          port: file.config.agent.meter.port,
          profile: file.config.agent.meter.profile,
          profiles: meterProfiles(),
          keySet: file.config.agent.meter.key !== undefined,
          authKeySet: file.config.agent.meter.authKey !== undefined,
        },
      }),
      applySettings: (form) => {
        const refusal = applySettings(file, form);
        if (refusal === undefined) {
          log.info('settings changed on the local page');
          void restartSource();
        }
        return refusal;
      },
    });
    webPort = await web.start();
    log.info(`local page on http://${webSettings.host}:${webPort}/ (PIN ${pin})`);
    if (options.mdns ?? config.agent.mdns) mdns = advertise(config.deviceId, webPort);
  }

  startSource();
  uplink.start();
  control.start();

  return {
    status,
    controlTick: () => control.tick(),
    record: (readings) => keep(readings, Date.now()),
    webPort,
    pin,
    async close() {
      clearInterval(heartbeat);
      await mdns?.stop();
      await web?.stop();
      await source?.stop();
      await control.stop();
      await uplink.stop();
      store.close();
    },
  };
}

function claimOf(file: ConfigFile, log: Logger): Claim | undefined {
  const url = file.config.agent.claimUrl;
  if (!url) return undefined;
  try {
    return parseClaim(url);
  } catch (error) {
    log.warn(`agent.claimUrl: ${(error as Error).message}`);
    return undefined;
  }
}

/** The settings form of the local page, applied to agent.json; a text says why it was refused. */
function applySettings(file: ConfigFile, form: URLSearchParams): string | undefined {
  const port = form.get('port') ?? '';
  const profile = form.get('profile') ?? '';
  const key = (form.get('key') ?? '').trim();
  const authKey = (form.get('authKey') ?? '').trim();
  const language = form.get('language') ?? '';
  if (key !== '' && !HEX_KEY.test(key)) return 'the meter key is 32 hex digits';
  if (authKey !== '' && !HEX_KEY.test(authKey)) return 'the authentication key is 32 hex digits';
  if (!(LANGUAGES as readonly string[]).includes(language)) return 'unknown language';
  const meter = { ...(file.raw.agent as Record<string, unknown> | undefined)?.meter as Record<string, unknown> | undefined };
  if (port === '') delete meter.port;
  else meter.port = port;
  meter.profile = profile;
  if (key !== '') meter.key = key;
  if (authKey !== '') meter.authKey = authKey;
  try {
    parseMeterSettings(meter);
    updateAgentSection(file, (agent) => {
      agent.meter = meter;
      section(agent, 'web').language = language as Language;
    });
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}
