import mqtt, { type MqttClient } from 'mqtt';
import { deviceResource, parseConnectionString, signSasToken, type ConnectionString } from '../provisioning/index.js';
import { packReadings } from './domain/outbox.js';
import { reconnectDelayMs, take, tokenBucket, waitFor, type TokenBucket } from './domain/rate.js';
import type { AgentConfig } from './domain/config.js';
import type { Logger } from './log.js';
import type { OutboxStore, QueuedRow } from './store.js';

export type Transport = 'mqtt' | 'http' | 'offline';

export interface UplinkState {
  transport: Transport;
  sentMessages: number;
  sentReadings: number;
  refusedMessages: number;
  lastAckAtMs: number | undefined;
  lastError: string | undefined;
}

/** A raw frame holds about this many readings; the drain rate counts it so. */
const FRAME_WEIGHT = 25;
const ACK_TIMEOUT_MS = 30_000;
const MQTT_RETRY_ON_HTTP_MS = 60_000;
const PEEK_ROWS = 1_000;

/**
 * Sends the queue to the platform, oldest first, one message in flight: over MQTT QoS 1 (the
 * PUBACK comes after the platform's commit), or over HTTP when MQTT has not connected for a
 * while (a network that blocks port 1883), going back to MQTT when it can. A message leaves
 * the queue only once acknowledged; after an outage the backlog goes at the bounded drain rate.
 */
export class Uplink {
  readonly state: UplinkState = { transport: 'offline', sentMessages: 0, sentReadings: 0, refusedMessages: 0, lastAckAtMs: undefined, lastError: undefined };
  private client: MqttClient | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private bucket: TokenBucket;
  private attempt = 0;
  private mqttDownSinceMs: number | undefined;
  private nextMqttTryMs = 0;
  /** After the platform refused a packed message over HTTP, its rows go one by one up to here. */
  private singlesUntilSeq = 0;
  private readonly credentials: ConnectionString;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly config: AgentConfig,
    private readonly store: OutboxStore,
    private readonly log: Logger,
    private readonly onCommand: (payload: string) => void,
    /** Called whenever the platform answered (a connection, a PUBACK, an HTTP answer): the safe fallback counts from the last one. */
    private readonly onContact: () => void = () => undefined,
  ) {
    this.credentials = parseConnectionString(config.connectionString);
    this.bucket = tokenBucket(config.agent.uplink.drainReadingsPerSecond, Date.now());
  }

  start(): void {
    this.loop = this.run();
  }

  /** Something new is in the queue. */
  nudge(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.client?.endAsync(true).catch(() => undefined);
  }

  /** Best effort, QoS 0: a lost heartbeat is replaced by the next one. */
  publish(topic: string, body: string): void {
    if (this.client?.connected) this.client.publish(topic, body, { qos: 0 });
  }

  get mqttConnected(): boolean {
    return this.client?.connected === true;
  }

  /**
   * Answers a command: over MQTT QoS 1 on the ack topic when connected, else `POST …/commands/ack`.
   * False when neither got through (the caller sends it again later).
   */
  async answer(body: string): Promise<boolean> {
    if (this.client?.connected) {
      try {
        await withTimeout(this.client.publishAsync(this.config.mqtt.topics.commandAck, body, { qos: 1 }), ACK_TIMEOUT_MS, 'no PUBACK');
        this.onContact();
        return true;
      } catch (error) {
        this.failed(`command answer over MQTT: ${(error as Error).message}`);
      }
    }
    const response = await this.request(`${this.config.http.commandsUrl}/ack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (!response) return false;
    // A refused answer (400: malformed, 403/404: not this device's command) can never succeed.
    if (!response.ok) this.log.warn(`command answer refused: ${response.status} ${(await response.text().catch(() => '')).slice(0, 200)}`);
    return response.ok || (response.status >= 400 && response.status < 500);
  }

  /** Commands polled over HTTP (where MQTT is blocked), each as its JSON text; undefined when the platform did not answer. */
  async pollCommands(): Promise<string[] | undefined> {
    const response = await this.request(this.config.http.commandsUrl, { method: 'GET' });
    if (!response?.ok) return undefined;
    const body = await response.json().catch(() => undefined) as { commands?: unknown } | undefined;
    if (!Array.isArray(body?.commands)) {
      this.failed('command poll: the answer has no commands list');
      return undefined;
    }
    return body.commands.map((command) => JSON.stringify(command));
  }

  /** A request to the platform with the device's SAS token; undefined when nothing answered. */
  private async request(url: string, init: { method: string; headers?: Record<string, string>; body?: string }): Promise<Response | undefined> {
    try {
      const response = await fetch(url, { ...init, headers: { ...init.headers, authorization: this.token() }, signal: AbortSignal.timeout(ACK_TIMEOUT_MS) });
      // A gateway's 5xx is not the platform answering.
      if (response.status < 500) this.onContact();
      return response;
    } catch (error) {
      this.failed(`HTTP ${init.method} ${url}: ${(error as Error).message}`);
      return undefined;
    }
  }

  private token(): string {
    return signSasToken({
      resource: deviceResource(this.credentials.hostName, this.credentials.deviceId),
      key: this.credentials.sharedAccessKey,
      expiresAt: new Date(Date.now() + this.config.agent.uplink.tokenTtlSeconds * 1000),
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const rows = this.store.peek(PEEK_ROWS);
      if (rows.length === 0) {
        // Connected even when idle: commands arrive, and an outage shows before data waits.
        const connected = this.state.transport !== 'http' && await this.ensureMqtt();
        await this.sleep(connected ? 60_000 : 5_000);
        continue;
      }
      const batch = this.nextBatch(rows);
      const weight = batch.weight;
      const wait = waitFor(this.bucket, weight, Date.now());
      if (wait > 0) {
        await this.sleep(wait);
        continue;
      }
      this.bucket = take(this.bucket, weight, Date.now()).bucket;
      const sent = await this.send(batch);
      if (!sent && !this.stopped) await this.sleep(reconnectDelayMs(this.attempt++, Math.random()));
    }
  }

  private nextBatch(rows: readonly QueuedRow[]): Batch {
    const first = rows[0]!;
    if (first.kind !== 'readings') return { kind: 'frame', format: first.kind, seqs: [first.seq], readings: 1, weight: FRAME_WEIGHT, body: first.payload };
    const run: QueuedRow[] = [];
    for (const row of rows) {
      if (row.kind !== 'readings' || (run.length > 0 && row.seq <= this.singlesUntilSeq)) break;
      run.push(row);
      if (row.seq <= this.singlesUntilSeq) break;
    }
    const grant = Math.max(1, Math.floor(this.bucket.capacity));
    const packed = packReadings(run.map((r) => ({ seq: r.seq, count: r.count, json: r.payload.toString('utf8') })), grant)!;
    return { kind: 'readings', seqs: packed.seqs, readings: packed.readings, weight: Math.min(packed.readings, this.bucket.capacity), body: Buffer.from(packed.body) };
  }

  private async send(batch: Batch): Promise<boolean> {
    if (await this.ensureMqtt()) {
      try {
        const topic = batch.kind === 'readings' ? this.config.mqtt.topics.events : this.config.mqtt.topics.frames.replace('{format}', batch.format!);
        await withTimeout(this.client!.publishAsync(topic, batch.body, { qos: 1 }), ACK_TIMEOUT_MS, 'no PUBACK');
        this.acknowledged(batch, 'mqtt');
        return true;
      } catch (error) {
        this.failed(`MQTT publish: ${(error as Error).message}`);
        await this.dropClient();
        return false;
      }
    }
    if (this.mqttDownSinceMs !== undefined && Date.now() - this.mqttDownSinceMs >= this.config.agent.uplink.httpFallbackAfterSeconds * 1000) {
      return this.sendHttp(batch);
    }
    return false;
  }

  private async sendHttp(batch: Batch): Promise<boolean> {
    const url = batch.kind === 'readings' ? this.config.http.readingsUrl : this.config.http.readingsUrl.replace(/\/readings$/, `/frames/${batch.format}`);
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { authorization: this.token(), 'content-type': batch.kind === 'readings' ? 'application/json' : 'application/octet-stream' },
        // As plain bytes: the web app's browser tests compile this file with the DOM's fetch types, which take no Buffer.
        body: new Uint8Array(batch.body),
        signal: AbortSignal.timeout(ACK_TIMEOUT_MS),
      });
    } catch (error) {
      this.failed(`HTTP: ${(error as Error).message}`);
      this.state.transport = 'offline';
      return false;
    }
    const text = await response.text().catch(() => '');
    if (response.ok) {
      this.acknowledged(batch, 'http');
      return true;
    }
    if (response.status === 400 || response.status === 413) {
      // Refused for what it is, not for the moment: it can never be sent. A packed message is
      // split so one bad reading does not take its neighbours with it.
      if (batch.seqs.length > 1) {
        this.singlesUntilSeq = batch.seqs[batch.seqs.length - 1]!;
        return true;
      }
      this.state.refusedMessages += 1;
      this.state.lastError = `refused by the platform: ${text.slice(0, 300)}`;
      this.log.warn(`message ${batch.seqs[0]} refused: ${text.slice(0, 300)}`);
      this.store.acknowledge(batch.seqs);
      return true;
    }
    this.failed(`HTTP ${response.status}: ${text.slice(0, 200)}`);
    return false;
  }

  private acknowledged(batch: Batch, transport: Transport): void {
    this.onContact();
    this.store.acknowledge(batch.seqs);
    this.state.transport = transport;
    this.state.sentMessages += 1;
    this.state.sentReadings += batch.readings;
    this.state.lastAckAtMs = Date.now();
    this.attempt = 0;
  }

  private failed(message: string): void {
    if (this.state.lastError !== message) this.log.warn(message);
    this.state.lastError = message;
  }

  /** Connected over MQTT, or trying again when it is time; false while it cannot be. */
  private async ensureMqtt(): Promise<boolean> {
    if (this.client?.connected) return true;
    if (Date.now() < this.nextMqttTryMs) return false;
    await this.dropClient();
    try {
      const client = await mqtt.connectAsync(this.config.mqtt.url, {
        clientId: this.config.deviceId,
        username: this.config.deviceId,
        password: this.token(),
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
        keepalive: 60,
      });
      client.on('error', (error) => this.failed(`MQTT: ${error.message}`));
      client.on('close', () => {
        if (this.state.transport === 'mqtt') this.state.transport = 'offline';
        this.mqttDownSinceMs ??= Date.now();
        this.wake?.();
      });
      client.on('message', (_topic, payload) => this.onCommand(payload.toString('utf8')));
      await client.subscribeAsync(this.config.mqtt.topics.commands, { qos: 1 }).catch((error: Error) => this.log.warn(`commands subscription: ${error.message}`));
      this.client = client;
      this.state.transport = 'mqtt';
      this.mqttDownSinceMs = undefined;
      this.onContact();
      this.log.info(`connected to ${this.config.mqtt.url}`);
      return true;
    } catch (error) {
      this.mqttDownSinceMs ??= Date.now();
      this.failed(`MQTT connect ${this.config.mqtt.url}: ${(error as Error).message}`);
      // On HTTP, MQTT is tried again now and then; before the fallback, with the usual backoff.
      this.nextMqttTryMs = Date.now() + (this.state.transport === 'http' ? MQTT_RETRY_ON_HTTP_MS : reconnectDelayMs(this.attempt, Math.random()));
      if (this.state.transport === 'mqtt') this.state.transport = 'offline';
      return false;
    }
  }

  private async dropClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(true).catch(() => undefined);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}

interface Batch {
  readonly kind: 'readings' | 'frame';
  readonly format?: string;
  readonly seqs: number[];
  readonly readings: number;
  readonly weight: number;
  readonly body: Buffer;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(what)), ms); }),
  ]);
}
