import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGridshare, type RunningGridshare } from '../support/process.js';
import { startModbusDevice, type ModbusDevice } from '../connectors/support/modbus-device.js';
import { deviceConfigJson, until } from './support/agents.js';

const SECOND = 1_000;
/** The battery: mode (1 remote, 2 self-consumption), power set-point (W, int16); the charger: its current limit set-point (W, uint16). */
const MODE = 10;
const SETPOINT = 11;
const CHARGER_SETPOINT = 30;
const COUNTER = 40;
const REMOTE = 1;
const SELF_CONSUMPTION = 2;
const iso = (ms: number) => new Date(ms).toISOString();
const asInt16 = (raw: number | undefined) => (raw === undefined ? undefined : raw >= 0x8000 ? raw - 0x10000 : raw);

interface Answer { commandId: string; result: string; reason?: string }

/**
 * What the agent has still to do survives `kill -9`: a battery set-point that reverts to the
 * safe state when it expires (plain Modbus registers have no timer of their own) and a charger
 * command accepted before its validFrom. The agent runs as its own process (`gridshare agent`),
 * takes both commands from a real broker (aedes), is killed with SIGKILL and started again: the
 * charger is written at its validFrom, the battery reverted at its expiry, each once, and neither
 * command answered twice.
 */
describe('scheduled work of the agent across kill -9', () => {
  const deviceId = 'agent-schedule-1';
  let broker: Aedes;
  let brokerServer: Server;
  let battery: ModbusDevice;
  let charger: ModbusDevice;
  let dir: string;
  let configPath: string;
  const answers: Answer[] = [];
  const connected: string[] = [];
  const running: RunningGridshare[] = [];

  beforeAll(async () => {
    broker = await Aedes.createBroker();
    broker.on('subscribe', (subscriptions, client) => {
      if (subscriptions.some((sub) => sub.topic === `devices/${deviceId}/commands`)) connected.push(client.id);
    });
    broker.on('publish', (packet, client) => {
      if (client && packet.topic === `devices/${deviceId}/commands/ack`) answers.push(JSON.parse(packet.payload.toString()) as Answer);
    });
    brokerServer = createServer(broker.handle);
    await new Promise<void>((resolve) => brokerServer.listen(0, '127.0.0.1', resolve));
    battery = await startModbusDevice({ holding: new Map([[MODE, SELF_CONSUMPTION], [SETPOINT, 0], [COUNTER, 0], [COUNTER + 1, 100]]) });
    charger = await startModbusDevice({ holding: new Map([[CHARGER_SETPOINT, 0], [COUNTER, 0], [COUNTER + 1, 200]]) });
    dir = mkdtempSync(join(tmpdir(), 'gridshare-agent-schedule-'));
    const registers = [{ quantity: 'energy.import', address: COUNTER, function: 'holding', type: 'uint32', wordOrder: 'big', byteOrder: 'big', scale: 1, unit: 'Wh' }];
    const config = deviceConfigJson(deviceId, {
      web: { enabled: false }, mdns: false,
      control: { fallbackAfterSeconds: 3_600, pollSeconds: 3_600 },
      connectors: [
        {
          name: 'battery', kind: 'modbus-registers', intervalSeconds: 0, config: { host: '127.0.0.1', port: battery.port, registers },
          setpoints: { 'battery-power': { writes: [{ address: MODE, type: 'uint16', value: REMOTE }], register: { address: SETPOINT, type: 'int16' } } },
          safeState: [{ address: MODE, type: 'uint16', value: SELF_CONSUMPTION }, { address: SETPOINT, type: 'int16', value: 0 }],
        },
        {
          name: 'charger', kind: 'modbus-registers', intervalSeconds: 0, config: { host: '127.0.0.1', port: charger.port, registers },
          setpoints: { 'ev-charge-power': { register: { address: CHARGER_SETPOINT, type: 'uint16' } } },
        },
      ],
    }) as { mqtt: { url: string }; http: Record<string, string> };
    config.mqtt.url = `mqtt://127.0.0.1:${(brokerServer.address() as AddressInfo).port}`;
    config.http = { readingsUrl: `http://127.0.0.1:9/api/v1/devices/${deviceId}/readings` };
    configPath = join(dir, 'agent.json');
    writeFileSync(configPath, JSON.stringify(config), { mode: 0o600 });
  });
  afterAll(async () => {
    for (const agent of running) {
      agent.child.kill('SIGKILL');
      await agent.exited;
    }
    await new Promise<void>((resolve) => (broker ? broker.close(() => brokerServer.close(() => resolve())) : resolve()));
    await battery?.close();
    await charger?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const start = async () => {
    const before = connected.length;
    const agent = runGridshare(['agent', '--config', configPath, '--no-web', '--no-mdns']);
    running.push(agent);
    await until('the agent subscribed to its commands', () => {
      if (agent.child.exitCode !== null) throw new Error(`the agent exited:\n${agent.output()}`);
      return connected.length > before;
    }, 90_000);
    return agent;
  };
  const deliver = (body: Record<string, unknown>) => new Promise<void>((resolve, reject) => broker.publish({
    cmd: 'publish', topic: `devices/${deviceId}/commands`, payload: Buffer.from(JSON.stringify(body)), qos: 1, retain: false, dup: false,
  }, (error) => (error ? reject(error) : resolve())));
  const answersTo = (id: string) => answers.filter((a) => a.commandId === id);

  it('carries out a command at its validFrom and reverts an expired set-point after the agent was killed and started again', async () => {
    const first = await start();
    const t0 = Date.now();
    const discharge = { id: randomUUID(), kind: 'battery-power', value: -1_500, validFrom: iso(t0 - SECOND), expiresAt: iso(t0 + 35 * SECOND), issuedAt: iso(t0 - SECOND) };
    const charge = { id: randomUUID(), kind: 'ev-charge-power', value: 7_000, validFrom: iso(t0 + 25 * SECOND), expiresAt: iso(t0 + 120 * SECOND), issuedAt: iso(t0 - SECOND) };
    await deliver(discharge);
    await deliver(charge);
    await until('both answered', () => answersTo(discharge.id).length > 0 && answersTo(charge.id).length > 0);
    expect([...answersTo(discharge.id), ...answersTo(charge.id)]).toEqual([{ commandId: discharge.id, result: 'acknowledged' }, { commandId: charge.id, result: 'acknowledged' }]);
    expect([battery.holding.get(MODE), asInt16(battery.holding.get(SETPOINT))]).toEqual([REMOTE, -1_500]);
    expect(charger.holding.get(CHARGER_SETPOINT)).toBe(0);

    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    // What is left to do was in the queue file before the answers went out.
    const queue = new Database(join(dir, 'agent-queue.db'), { readonly: true });
    const scheduled = JSON.parse((queue.prepare(`SELECT value FROM meta WHERE name = 'scheduled'`).get() as { value: string }).value) as { atMs: number; action: string; command: { id: string } }[];
    queue.close();
    expect(scheduled.map((s) => [s.action, s.command.id, s.atMs])).toEqual([['carry-out', charge.id, t0 + 25 * SECOND], ['revert', discharge.id, t0 + 35 * SECOND]]);

    const second = await start();
    if (Date.now() < t0 + 25 * SECOND) {
      // Back before the charger's validFrom: not carried out early.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      if (Date.now() < t0 + 25 * SECOND) expect(charger.holding.get(CHARGER_SETPOINT)).toBe(0);
    }
    await until('the charger written', () => charger.holding.get(CHARGER_SETPOINT) === 7_000, 60_000);
    expect(Date.now()).toBeGreaterThanOrEqual(t0 + 25 * SECOND);
    if (Date.now() < t0 + 34 * SECOND) expect([battery.holding.get(MODE), asInt16(battery.holding.get(SETPOINT))]).toEqual([REMOTE, -1_500]);
    await until('the battery back in self-consumption', () => battery.holding.get(MODE) === SELF_CONSUMPTION && battery.holding.get(SETPOINT) === 0, 60_000);
    expect(Date.now()).toBeGreaterThanOrEqual(t0 + 35 * SECOND);

    // Each once: the charger's set-point, the battery's revert; no command answered again.
    expect(charger.writes.filter((w) => w.address === CHARGER_SETPOINT)).toEqual([{ address: CHARGER_SETPOINT, values: [7_000] }]);
    expect(battery.writes).toEqual([
      { address: MODE, values: [REMOTE] }, { address: SETPOINT, values: [0x10000 - 1_500] },
      { address: MODE, values: [SELF_CONSUMPTION] }, { address: SETPOINT, values: [0] },
    ]);
    expect(answers).toHaveLength(2);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 180_000);
});
