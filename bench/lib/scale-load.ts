/**
 * The devices of bench:scale, in their own process: thousands of MQTT connections, each device
 * publishing one message at its own offset in every period, as meters on a fixed cadence do.
 * Driven over IPC by bench/scale.ts.
 */
import mqtt, { type MqttClient } from 'mqtt';

export interface ScaleLoadConfig {
  readonly brokerUrl: string;
  readonly devices: readonly { id: string; password?: string }[];
  /** How many connect at once. */
  readonly connectConcurrency: number;
  readonly seconds: number;
  readonly periodSeconds: number;
}

export type ScaleLoadCommand = { type: 'start'; config: ScaleLoadConfig };
export type ScaleLoadReport =
  | { type: 'connected'; seconds: number; failed: number }
  | { type: 'published'; messages: number; readings: number; refused: number; seconds: number; peakRssMb: number;
      /** Per message: device index, its readings' instant (ms), when it was published (ms since the epoch). */
      sent: { device: number[]; ts: number[]; at: number[] } };

const QUANTITIES = [['energy.import', 'Wh'], ['power.import', 'W'], ['voltage.l1', 'V'], ['voltage.l2', 'V'], ['voltage.l3', 'V']] as const;
export const READINGS_PER_MESSAGE = QUANTITIES.length;
// Resolved once the report has left over IPC: the process exits right after its last report, and a large one
// (100,000 messages' timings) still in the channel's buffer would otherwise be lost with it.
const send = (report: ScaleLoadReport) => new Promise<void>((sent, failed) => process.send!(report, undefined, {}, (error) => (error ? failed(error) : sent())));
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function run(config: ScaleLoadConfig): Promise<void> {
  const clients: (MqttClient | undefined)[] = [];
  let failed = 0;
  const connecting = performance.now();
  for (let i = 0; i < config.devices.length; i += config.connectConcurrency) {
    clients.push(...await Promise.all(config.devices.slice(i, i + config.connectConcurrency).map((d) => mqtt.connectAsync(config.brokerUrl, {
      clientId: d.id, username: d.id, password: d.password, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 60_000, keepalive: 300,
    }).catch(() => { failed++; return undefined; }))));
  }
  await send({ type: 'connected', seconds: (performance.now() - connecting) / 1000, failed });

  // Device d publishes at d/N of each period: an even stream, as many meters on one cadence give.
  const periodMs = config.periodSeconds * 1000;
  const rounds = Math.max(1, Math.floor(config.seconds / config.periodSeconds));
  const n = clients.length;
  const total = rounds * n;
  const sent = { device: [] as number[], ts: [] as number[], at: [] as number[] };
  const registers = new Float64Array(n).fill(1_000_000);
  const lastTs = new Float64Array(n);
  const pending: Promise<void>[] = [];
  let refused = 0;
  const began = Date.now();
  for (let next = 0; next < total;) {
    const due = Math.min(total, Math.floor(((Date.now() - began) / periodMs) * n) + 1);
    for (; next < due; next++) {
      const d = next % n;
      const client = clients[d];
      if (!client) continue;
      const at = Date.now();
      // Whole seconds, each device's its own even when the generator falls behind (a repeat would be a no-op).
      const ts = Math.max(Math.floor(at / 1000) * 1000, lastTs[d]! + 1000);
      lastTs[d] = ts;
      registers[d] = registers[d]! + 3;
      const iso = new Date(ts).toISOString();
      const readings = QUANTITIES.map(([quantity, unit]) => ({
        ts: iso, quantity, unit,
        value: quantity === 'energy.import' ? registers[d]! : quantity === 'power.import' ? 400 + (d % 500) : 230 + (d % 7) / 10,
      }));
      sent.device.push(d);
      sent.ts.push(ts);
      sent.at.push(at);
      pending.push(client.publishAsync(`devices/${config.devices[d]!.id}/messages/events`, JSON.stringify({ readings }), { qos: 1 })
        .then(() => undefined, () => { refused++; }));
    }
    await sleep(10);
  }
  await Promise.all(pending);
  await send({
    type: 'published', messages: sent.at.length, readings: sent.at.length * READINGS_PER_MESSAGE, refused, seconds: (Date.now() - began) / 1000,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024), sent,
  });
  await Promise.all(clients.map((c) => c?.endAsync(true)));
}

process.on('message', (command: ScaleLoadCommand) => {
  run(command.config).then(() => process.exit(0), (error: Error) => {
    process.stderr.write(`scale load: ${error.stack ?? error.message}\n`);
    process.exit(1);
  });
});
