import { writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { join } from 'node:path';
import type { TestPlatform } from '../../support/platform.js';

/**
 * agent.json for a provisioned device: its config.json as the manager downloads it, pointed at
 * the test platform (or at `mqttUrl`/`httpBase` instead), with the agent section given.
 */
export async function writeAgentConfig(
  tp: TestPlatform, managerToken: string, deviceId: string, dir: string, agent: Record<string, unknown>,
  endpoints: { mqttUrl?: string; httpBase?: string } = {},
): Promise<string> {
  const response = await tp.call('GET', `/api/v1/devices/${deviceId}/config.json`, { token: managerToken });
  if (response.status !== 200) throw new Error(`config.json: ${response.status}`);
  const config = response.body as Record<string, any>;
  config.mqtt.url = endpoints.mqttUrl ?? tp.platform.mqttUrl.replace('localhost', '127.0.0.1');
  const httpBase = endpoints.httpBase ?? tp.platform.httpUrl.replace('localhost', '127.0.0.1');
  config.http.readingsUrl = `${httpBase}/api/v1/devices/${deviceId}/readings`;
  config.http.commandsUrl = `${httpBase}/api/v1/devices/${deviceId}/commands`;
  config.agent = agent;
  const path = join(dir, `${deviceId}.json`);
  writeFileSync(path, JSON.stringify(config, null, 2), { mode: 0o600 });
  return path;
}

export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A provisioning config.json as a batch writes it, with an agent section. */
export function deviceConfigJson(deviceId = 'dev-1', agent: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    deviceId,
    kind: 'meter-reader',
    connectionString: `HostName=energy.example.org;DeviceId=${deviceId};SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')}`,
    mqtt: { url: 'mqtt://energy.example.org:1883', clientId: deviceId, username: deviceId, password: 'a SAS token', topics: { events: `devices/${deviceId}/messages/events`, frames: `devices/${deviceId}/frames/{format}`, commands: `devices/${deviceId}/commands` } },
    http: { readingsUrl: `https://energy.example.org/api/v1/devices/${deviceId}/readings`, authorization: 'a SAS token' },
    agent,
  };
}

/**
 * A TCP forwarder on a loopback port in front of a server: `cut()` closes it and every
 * connection through it (the network between the agent and the platform goes away),
 * `restore()` listens on the same port again.
 */
export interface Forwarder {
  readonly port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startForwarder(targetPort: number): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = (port: number) => new Promise<number>((resolve, reject) => {
    const next = createServer((inbound) => {
      const outbound = connect(targetPort, '127.0.0.1');
      for (const socket of [inbound, outbound]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          sockets.delete(socket);
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    next.once('error', reject);
    next.listen(port, '127.0.0.1', () => {
      server = next;
      const address = next.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
  const cut = async () => {
    for (const socket of sockets) socket.destroy();
    const closing = server;
    server = undefined;
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };
  const port = await listen(0);
  return { port, cut, restore: async () => { await listen(port); }, close: cut };
}

/** An agent's answer to a command, as it publishes it on the ack topic. */
export interface CommandAnswer { commandId: string; result: string; reason?: string }

/**
 * A real MQTT broker (aedes) on loopback for one agent's device: it keeps the device's command
 * answers and readings messages as they arrive, and delivers commands to it.
 */
export interface DeviceBroker {
  readonly port: number;
  readonly answers: CommandAnswer[];
  readonly events: { readings: { quantity: string; value: number }[] }[];
  deliver(command: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

export async function startDeviceBroker(deviceId: string): Promise<DeviceBroker> {
  const broker = await Aedes.createBroker();
  const answers: CommandAnswer[] = [];
  const events: DeviceBroker['events'] = [];
  broker.on('publish', (packet, client) => {
    if (!client) return;
    if (packet.topic === `devices/${deviceId}/commands/ack`) answers.push(JSON.parse(packet.payload.toString()) as CommandAnswer);
    if (packet.topic === `devices/${deviceId}/messages/events`) events.push(JSON.parse(packet.payload.toString()) as DeviceBroker['events'][number]);
  });
  const server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    answers,
    events,
    deliver: (command) => new Promise<void>((resolve, reject) => broker.publish({
      cmd: 'publish', topic: `devices/${deviceId}/commands`, payload: Buffer.from(JSON.stringify(command)), qos: 1, retain: false, dup: false,
    }, (error) => (error ? reject(error) : resolve()))),
    close: () => new Promise<void>((resolve) => broker.close(() => server.close(() => resolve()))),
  };
}
