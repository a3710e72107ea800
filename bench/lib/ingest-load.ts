/**
 * The devices of the ingest benchmark, in their own process so that publishing does not compete
 * with the server for its event loop. Driven over IPC by bench/ingest.ts.
 */
import mqtt, { type MqttClient } from 'mqtt';

export interface LoadConfig {
  readonly mqttUrl: string;
  readonly protocolVersion: 4 | 5;
  readonly devices: readonly { id: string; password?: string }[];
  readonly httpUrl: string;
  readonly communityId: string;
  readonly apiToken: string;
  /** Readings start this far back, one instant per second per device, so none is in the future. */
  readonly startTs: number;
  readonly throughput: { seconds: number; readingsPerMessage: number; inflightPerDevice: number };
  readonly paced: { seconds: number; readingsPerSecond: number; readingsPerMessage: number };
}

export type LoadCommand = { type: 'start'; config: LoadConfig } | { type: 'stored'; readings: number };
export type LoadReport =
  | { type: 'connected' }
  | { type: 'published'; readings: number }
  | { type: 'throughput'; ackedReadings: number; seconds: number; ackMs: number[] }
  | { type: 'paced'; sentMessages: number; ackMs: number[]; liveMs: number[]; liveMissing: number };

const QUANTITIES = ['energy.import', 'power.import', 'voltage.l1', 'voltage.l2', 'voltage.l3'] as const;
const UNITS = { 'energy.import': 'Wh', 'power.import': 'W', 'voltage.l1': 'V', 'voltage.l2': 'V', 'voltage.l3': 'V' } as const;
const now = () => performance.timeOrigin + performance.now();
const send = (report: LoadReport) => process.send!(report);

/** Each device advances its own clock; the register grows with it, so any arrival order is consistent. */
class DeviceClock {
  private second = 0;
  constructor(private readonly startTs: number) {}
  message(instants: number): { body: string; lastTs: string; readings: number } {
    const readings = [];
    let lastTs = '';
    for (let i = 0; i < instants; i++, this.second++) {
      lastTs = new Date(this.startTs + this.second * 1000).toISOString();
      for (const quantity of QUANTITIES) {
        const value = quantity === 'energy.import' ? 1_000_000 + this.second * 2 : quantity === 'power.import' ? 500 + (this.second % 300) : 230 + (this.second % 7) / 10;
        readings.push({ ts: lastTs, quantity, value, unit: UNITS[quantity] });
      }
    }
    return { body: JSON.stringify({ readings }), lastTs, readings: readings.length };
  }
}

let storedReadings = 0;
/** Publishers waiting for the server to catch up (external broker); woken when it reports progress. */
const waiting: (() => void)[] = [];

async function run(config: LoadConfig): Promise<void> {
  const clients: MqttClient[] = [];
  for (let i = 0; i < config.devices.length; i += 50) {
    clients.push(...await Promise.all(config.devices.slice(i, i + 50).map((d) => mqtt.connectAsync(config.mqttUrl, {
      clientId: d.id, username: d.id, password: d.password, protocolVersion: config.protocolVersion, reconnectPeriod: 0, connectTimeout: 20_000,
    }))));
  }
  const clocks = config.devices.map(() => new DeviceClock(config.startTs));
  send({ type: 'connected' });

  // Throughput: every device keeps a few QoS 1 messages in flight for the whole phase. With the
  // embedded broker a PUBACK means stored; with an external broker the producer is held back
  // by what Gridshare reports stored, so the broker's queues never overflow.
  const instants = config.throughput.readingsPerMessage / QUANTITIES.length;
  const end = now() + config.throughput.seconds * 1000;
  const started = now();
  let acked = 0;
  let published = 0;
  const ackMs: number[] = [];
  const window = 2_000 * config.throughput.readingsPerMessage;
  await Promise.all(clients.flatMap((client, d) => Array.from({ length: config.throughput.inflightPerDevice }, async () => {
    while (now() < end) {
      if (config.protocolVersion === 5 && published - storedReadings > window) {
        await new Promise<void>((resolve) => waiting.push(resolve));
        continue;
      }
      const message = clocks[d]!.message(instants);
      published += message.readings;
      const t0 = now();
      await client.publishAsync(`devices/${config.devices[d]!.id}/messages/events`, message.body, { qos: 1 });
      ackMs.push(now() - t0);
      acked += message.readings;
    }
  })));
  send({ type: 'published', readings: published });
  send({ type: 'throughput', ackedReadings: acked, seconds: (now() - started) / 1000, ackMs });
  // The latency phase starts on an empty pipeline: an external broker may still hold a backlog.
  const drainedBy = now() + 120_000;
  while (storedReadings < published && now() < drainedBy) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 2_000));

  // Latency at a steady rate, watched through the manager's live stream (server-sent events).
  const sentAt = new Map<string, number>();
  const liveMs: number[] = [];
  const abort = new AbortController();
  const stream = await fetch(`${config.httpUrl}/api/v1/communities/${config.communityId}/live`, {
    headers: { authorization: `Bearer ${config.apiToken}` }, signal: abort.signal,
  });
  if (!stream.ok || !stream.body) throw new Error(`live stream: HTTP ${stream.status}`);
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of stream.body as unknown as AsyncIterable<Uint8Array>) {
        const received = now();
        buffer += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = /^data: (.*)$/m.exec(event)?.[1];
          if (!data) continue;
          const { deviceId, ts } = JSON.parse(data) as { deviceId: string; ts: string };
          const at = sentAt.get(`${deviceId}|${ts}`);
          if (at !== undefined) liveMs.push(received - at);
        }
      }
    } catch {
      // aborted at the end
    }
  })();
  const perMessage = config.paced.readingsPerMessage;
  const messagesPerSecond = config.paced.readingsPerSecond / perMessage;
  const total = Math.round(messagesPerSecond * config.paced.seconds);
  const pacedAck: number[] = [];
  const inFlight: Promise<unknown>[] = [];
  const pacedStart = now();
  for (let n = 0; n < total; n++) {
    const due = pacedStart + (n * 1000) / messagesPerSecond;
    const wait = due - now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const d = n % clients.length;
    const message = clocks[d]!.message(perMessage / QUANTITIES.length);
    const t0 = now();
    sentAt.set(`${config.devices[d]!.id}|${message.lastTs}`, t0);
    inFlight.push(clients[d]!.publishAsync(`devices/${config.devices[d]!.id}/messages/events`, message.body, { qos: 1 }).then(() => pacedAck.push(now() - t0)));
  }
  await Promise.all(inFlight);
  await new Promise((r) => setTimeout(r, 3_000));
  abort.abort();
  await reading;
  send({ type: 'paced', sentMessages: total, ackMs: pacedAck, liveMs, liveMissing: total - liveMs.length });
  await Promise.all(clients.map((c) => c.endAsync(true)));
}

process.on('message', (command: LoadCommand) => {
  if (command.type === 'stored') {
    storedReadings = command.readings;
    for (const wake of waiting.splice(0)) wake();
  }
  else run(command.config).then(() => process.exit(0), (error: Error) => {
    process.stderr.write(`load: ${error.stack ?? error.message}\n`);
    process.exit(1);
  });
});
