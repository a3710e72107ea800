import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { createHash, randomUUID } from 'node:crypto';
import canonicalize from 'canonicalize';
import { startTestPlatform, signUp, unique, type TestPlatform, type TestUser } from '../support/platform.js';
import { platformStoreKinds } from '../support/stores.js';
import { communityBody } from '../support/world.js';
import { connectDevice, deviceCredentials, sasFor, type DeviceCredentials } from '../support/devices.js';
import type { EventPayload } from '../../src/kernel/events.js';
import type { PlanCommand } from '../../src/kernel/events.js';
import { DEMO_MODELS, runControlledDevices } from '../../src/simulator/index.js';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { decodeEntry } from '../../src/ledger/domain/index.js';

const MINUTE = 60_000;

/**
 * Commands over the real embedded broker and over HTTP polling, on one platform whose clock the
 * test moves: delivery, acknowledgement, expiry, supersession, duplicate delivery, a device offline
 * for an hour, forged and malformed acknowledgements.
 */
describe.each(platformStoreKinds)('commands to devices on %s', (kind) => {
  let tp: TestPlatform;
  let manager: TestUser;
  let member: TestUser;
  let other: TestUser;
  let communityId: string;
  const clock = { now: Date.UTC(2026, 4, 4, 9) };
  const devices: Record<'battery' | 'battery2' | 'battery3' | 'battery4' | 'plug' | 'ev' | 'heatPump', DeviceCredentials> = {} as never;
  const overrides: EventPayload<'device.override'>[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { control: { now: () => clock.now, retryMs: MINUTE } });
    [manager, member, other] = await Promise.all(['manager', 'member', 'other'].map((n) => signUp(tp, n))) as [TestUser, TestUser, TestUser];
    communityId = (await tp.call('POST', '/api/v1/communities', { token: manager.token, body: communityBody(unique('Control ')) })).body.id;
    for (const user of [member, other]) {
      const request = await tp.call('POST', `/api/v1/communities/${communityId}/join-requests`, { token: user.token, body: {} });
      await tp.call('POST', `/api/v1/members/${request.body.id}/approve`, { token: manager.token });
    }
    const point = (await tp.call('POST', `/api/v1/communities/${communityId}/metering-points`, {
      token: member.token, body: { name: 'Home', gridConnectionId: unique('AT001GC'), role: 'prosumer' },
    })).body.id;
    const batch = async (kind: string, count: number): Promise<string[]> => {
      const response = await tp.call('POST', `/api/v1/communities/${communityId}/device-batches`, { token: manager.token, body: { count, kind } });
      if (response.status !== 201) throw new Error(`batch: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body.deviceIds;
    };
    const [battery, battery2, battery3, battery4] = await batch('battery', 4) as [string, string, string, string];
    const [plug] = await batch('smart-plug', 1) as [string];
    const [ev] = await batch('ev-charger', 1) as [string];
    const [heatPump] = await batch('heat-pump', 1) as [string];
    for (const id of [battery, plug]) await tp.call('PATCH', `/api/v1/devices/${id}`, { token: manager.token, body: { meteringPointId: point } });
    Object.assign(devices, Object.fromEntries(await Promise.all(Object.entries({ battery, battery2, battery3, battery4, plug, ev, heatPump }).map(async ([name, id]) => [name, await deviceCredentials(tp, manager.token, id)]))));
    tp.platform.events.afterCommit('device.override', (payload) => {
      overrides.push(payload);
    });
  });
  afterAll(async () => {
    for (const client of clients) client.end(true);
    await tp?.close();
  });

  const plan = async (commands: (Partial<PlanCommand> & { deviceId: string })[], decidedAtMs = clock.now, planId = randomUUID()) => {
    await tp.platform.events.publish(tp.platform.db, 'plan.decided', {
      communityId, planId, decidedAtMs,
      commands: commands.map((c) => ({ kind: 'battery-power', value: 2_000, validFromMs: clock.now, expiresAtMs: clock.now + 15 * MINUTE, ...c })),
    });
    return planId;
  };
  const commandsOf = async (deviceId: string) => (await tp.call('GET', `/api/v1/communities/${communityId}/commands?deviceId=${deviceId}&limit=500`, { token: manager.token })).body.items as {
    id: string; kind: string; state: string; attempts: number; value: number | null; closedAt: string | null; planId: string | null; supersededBy: string | null;
  }[];
  const deliver = () => tp.platform.commands.flush();
  const poll = (device: DeviceCredentials, as = device) => tp.call('GET', `/api/v1/devices/${device.deviceId}/commands`, { headers: { authorization: sasFor(as) } });
  const ack = (device: DeviceCredentials, body: unknown, as = device) =>
    tp.call('POST', `/api/v1/devices/${device.deviceId}/commands/ack`, { headers: { authorization: sasFor(as) }, body });

  /** Connects as the device and subscribes to its commands; what it receives is collected. */
  async function online(device: DeviceCredentials) {
    const client = await connectDevice(tp, device.deviceId, sasFor(device));
    clients.push(client);
    const received: { id: string; kind: string; value: number | null; expiresAt: string }[] = [];
    client.on('message', (topic, payload) => {
      if (topic === `devices/${device.deviceId}/commands`) received.push(JSON.parse(payload.toString('utf8')));
    });
    await client.subscribeAsync(`devices/${device.deviceId}/commands`, { qos: 1 });
    return { client, received, answer: (body: unknown) => client.publishAsync(`devices/${device.deviceId}/commands/ack`, JSON.stringify(body), { qos: 1 }) };
  }

  it('delivers a plan\'s command over MQTT and takes the device\'s acknowledgement', async () => {
    const battery = await online(devices.battery);
    const planId = await plan([{ deviceId: devices.battery.deviceId, value: -1_500 }]);
    await deliver();
    await expect.poll(() => battery.received.length).toBe(1);
    const [message] = battery.received;
    expect(message).toMatchObject({ kind: 'battery-power', value: -1_500 });
    expect((await commandsOf(devices.battery.deviceId))[0]).toMatchObject({ id: message!.id, state: 'sent', attempts: 1, planId });
    await battery.answer({ commandId: message!.id, result: 'acknowledged' });
    await expect.poll(async () => (await commandsOf(devices.battery.deviceId))[0]!.state).toBe('acknowledged');
    // The member sees their device's command; another member of the community does not.
    const mine = await tp.call('GET', `/api/v1/communities/${communityId}/commands`, { token: member.token });
    expect(mine.body.items.map((c: { id: string }) => c.id)).toContain(message!.id);
    const theirs = await tp.call('GET', `/api/v1/communities/${communityId}/commands`, { token: other.token });
    expect(theirs.body).toEqual({ items: [], total: 0 });
  });

  it('delivers a command again until answered, and a repeated delivery and acknowledgement apply once', async () => {
    const plug = await online(devices.plug);
    await plan([{ deviceId: devices.plug.deviceId, kind: 'appliance-start', value: null }]);
    await deliver();
    await expect.poll(() => plug.received.length).toBe(1);
    clock.now += MINUTE;
    await deliver();
    await expect.poll(() => plug.received.length).toBe(2);
    expect(plug.received[1]!.id).toBe(plug.received[0]!.id);
    const id = plug.received[0]!.id;
    expect((await commandsOf(devices.plug.deviceId)).find((c) => c.id === id)).toMatchObject({ state: 'sent', attempts: 2 });
    await plug.answer({ commandId: id, result: 'acknowledged' });
    await expect.poll(async () => (await commandsOf(devices.plug.deviceId)).find((c) => c.id === id)!.state).toBe('acknowledged');
    const closedAt = (await commandsOf(devices.plug.deviceId)).find((c) => c.id === id)!.closedAt;
    clock.now += MINUTE;
    // The same answer again, over HTTP and MQTT, and a contradicting one: nothing changes.
    expect((await ack(devices.plug, { commandId: id, result: 'acknowledged' })).body).toEqual({ commandId: id, state: 'acknowledged', override: false });
    expect((await ack(devices.plug, { commandId: id, result: 'rejected' })).body.state).toBe('acknowledged');
    await plug.answer({ commandId: id, result: 'rejected' });
    await deliver();
    expect((await commandsOf(devices.plug.deviceId)).find((c) => c.id === id)).toMatchObject({ state: 'acknowledged', closedAt, attempts: 2 });
    expect(plug.received).toHaveLength(2);
  });

  it('two delivery passes at once publish a command once and count one attempt', async () => {
    const battery = await online(devices.battery4);
    await plan([{ deviceId: devices.battery4.deviceId, value: 700 }]);
    const passes = await Promise.all([1, 2, 3].map(() => tp.platform.control.deliverDue(communityId)));
    expect(passes.reduce((sum, pass) => sum + pass.done, 0)).toBe(1);
    await deliver();
    await expect.poll(() => battery.received.length).toBe(1);
    expect((await commandsOf(devices.battery4.deviceId)).find((c) => c.id === battery.received[0]!.id)).toMatchObject({ state: 'sent', attempts: 1 });
  });

  it('a newer command supersedes the older one before it is applied, and a late older one never replaces a newer', async () => {
    const device = devices.battery2.deviceId;
    const first = await plan([{ deviceId: device, value: 1_000 }]);
    const second = await plan([{ deviceId: device, value: 3_000 }], clock.now + 1);
    // An older plan's event that arrives last.
    await plan([{ deviceId: device, value: 500 }], clock.now - 60_000);
    const rows = await commandsOf(device);
    const byPlan = (id: string) => rows.find((c) => c.planId === id)!;
    const newest = byPlan(second);
    // Open: queued, or already sent if the delivery job (woken by the plan) ran first on a busy machine.
    const OPEN = ['queued', 'sent'];
    expect(OPEN).toContain(newest.state);
    expect(byPlan(first)).toMatchObject({ state: 'superseded', supersededBy: newest.id });
    expect(rows.filter((c) => c.state === 'superseded')).toHaveLength(2);
    expect(rows.find((c) => c.value === 500)).toMatchObject({ state: 'superseded', supersededBy: newest.id });
    // The device is given only the newest, and an answer to a superseded one changes nothing.
    const polled = await poll(devices.battery2);
    expect(polled.body.commands.map((c: { id: string }) => c.id)).toEqual([newest.id]);
    expect((await ack(devices.battery2, { commandId: byPlan(first).id, result: 'acknowledged' })).body.state).toBe('superseded');
    expect((await ack(devices.battery2, { commandId: newest.id, result: 'acknowledged' })).body.state).toBe('acknowledged');
    // A plan's setpoints for its next steps, issued together, all stay to be delivered, in order.
    clock.now += MINUTE;
    const steps = await plan([0, 1, 2].map((i) => ({ deviceId: device, value: 100 * (i + 1), validFromMs: clock.now + i * 15 * MINUTE, expiresAtMs: clock.now + (i + 1) * 15 * MINUTE })));
    const stepStates = (await commandsOf(device)).filter((c) => c.planId === steps).map((c) => c.state);
    expect(stepStates).toHaveLength(3);
    for (const state of stepStates) expect(OPEN).toContain(state);
    expect((await poll(devices.battery2)).body.commands.map((c: { value: number }) => c.value)).toEqual([100, 200, 300]);
    for (const c of (await commandsOf(device)).filter((x) => x.planId === steps)) await ack(devices.battery2, { commandId: c.id, result: 'acknowledged' });
  });

  it('a device offline for an hour gets what is still valid when it comes back, not what expired', async () => {
    const device = devices.heatPump.deviceId;
    clock.now += MINUTE;
    await plan([
      { deviceId: device, kind: 'heat-pump-block', value: null, expiresAtMs: clock.now + 30 * MINUTE },
      { deviceId: device, kind: 'heat-pump-power', value: 2_000, expiresAtMs: clock.now + 120 * MINUTE },
      { deviceId: devices.battery2.deviceId, value: 800, expiresAtMs: clock.now + 30 * MINUTE },
    ]);
    await deliver();
    clock.now += 60 * MINUTE;
    await deliver();
    const heatPump = await online(devices.heatPump);
    await expect.poll(() => heatPump.received.length).toBe(1);
    expect(heatPump.received[0]).toMatchObject({ kind: 'heat-pump-power', value: 2_000 });
    const states = Object.fromEntries((await commandsOf(device)).map((c) => [c.kind, c.state]));
    expect(states).toEqual({ 'heat-pump-block': 'expired', 'heat-pump-power': 'sent' });
    // Over HTTP: the other battery's command expired while it was away; it is given nothing.
    expect((await poll(devices.battery2)).body.commands).toEqual([]);
    expect((await commandsOf(devices.battery2.deviceId)).find((c) => c.value === 800)!.state).toBe('expired');
  });

  it('never counts an answer that comes after the expiry as applied', async () => {
    await plan([{ deviceId: devices.battery2.deviceId, value: 1_200, expiresAtMs: clock.now + 5 * MINUTE }]);
    const [command] = (await poll(devices.battery2)).body.commands;
    clock.now += 5 * MINUTE;
    expect((await ack(devices.battery2, { commandId: command.id, result: 'acknowledged' })).body.state).toBe('expired');
    expect((await poll(devices.battery2)).body.commands).toEqual([]);
  });

  it('refuses forged acknowledgements: another device\'s command (403), an unknown id (404), a token for another device (401)', async () => {
    await plan([{ deviceId: devices.battery2.deviceId, value: 2_500, expiresAtMs: clock.now + 30 * MINUTE }]);
    const [command] = (await poll(devices.battery2)).body.commands;
    const forged = await ack(devices.ev, { commandId: command.id, result: 'rejected' });
    expect(forged.status).toBe(403);
    expect(forged.body.error).toBe('forbidden');
    expect((await ack(devices.battery2, { commandId: command.id, result: 'rejected' }, devices.ev)).status).toBe(401);
    expect((await ack(devices.ev, { commandId: randomUUID(), result: 'acknowledged' })).status).toBe(404);
    expect((await poll(devices.battery2, devices.ev)).status).toBe(401);
    // Over MQTT: on its own topic with another device's command id, and on the other device's topic.
    const ev = await online(devices.ev);
    // Handled before the PUBACK comes: refused (logged), nothing changes.
    await ev.answer({ commandId: command.id, result: 'rejected' });
    // The broker refuses the other device's topic and drops the connection.
    const closed = new Promise<void>((resolve) => ev.client.once('close', () => resolve()));
    ev.client.publish(`devices/${devices.battery2.deviceId}/commands/ack`, JSON.stringify({ commandId: command.id, result: 'rejected' }), { qos: 1 });
    await closed;
    expect((await commandsOf(devices.battery2.deviceId)).find((c) => c.id === command.id)!.state).toBe('sent');
  });

  it('refuses malformed acknowledgements with a clear error and changes nothing', async () => {
    await plan([{ deviceId: devices.battery2.deviceId, value: 900, expiresAtMs: clock.now + 30 * MINUTE }]);
    const [command] = (await poll(devices.battery2)).body.commands;
    const cases: [unknown, string][] = [
      [{ commandId: command.id }, 'body/result'],
      [{ commandId: command.id, result: 'done' }, 'body/result'],
      [{ commandId: 'nope', result: 'acknowledged' }, 'body/commandId'],
      [{ commandId: command.id, result: 'acknowledged', colour: 'red' }, 'body/colour'],
      [{ commandId: command.id, result: 'acknowledged', override: { until: 'tomorrow' } }, 'body/override/until'],
      [[1, 2], 'body/message'],
    ];
    for (const [body, field] of cases) {
      const response = await ack(devices.battery2, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body).toMatchObject({ error: 'bad_request', field });
    }
    const mqttDevice = await online(devices.battery2);
    await mqttDevice.client.publishAsync(`devices/${devices.battery2.deviceId}/commands/ack`, 'not json', { qos: 1 });
    await mqttDevice.answer({ commandId: command.id, result: 'maybe' });
    expect((await commandsOf(devices.battery2.deviceId)).find((c) => c.id === command.id)!.state).toBe('sent');
    expect(overrides.filter((o) => o.deviceId === devices.battery2.deviceId)).toEqual([]);
  });

  it('an override reported by the device is published as device.override (source device)', async () => {
    const until = new Date(clock.now + 3 * 60 * MINUTE).toISOString();
    const answer = await ack(devices.battery, { override: { until } });
    expect(answer.body).toEqual({ commandId: null, state: null, override: true });
    await expect.poll(() => overrides.find((o) => o.source === 'device')).toEqual({ communityId, deviceId: devices.battery.deviceId, untilMs: Date.parse(until), source: 'device' });
  });

  it('members and managers issue manual commands for the device they may see, of a kind the device takes', async () => {
    const plugId = devices.plug.deviceId;
    const issued = await tp.call('POST', `/api/v1/devices/${plugId}/manual-commands`, { token: member.token, body: { kind: 'appliance-start' } });
    expect(issued.status).toBe(201);
    expect(issued.body).toMatchObject({ source: 'manual', state: 'queued', value: null, deviceId: plugId, planId: null });
    expect(Date.parse(issued.body.expiresAt) - Date.parse(issued.body.validFrom)).toBe(60 * MINUTE);
    await expect.poll(() => overrides.find((o) => o.source === 'app' && o.deviceId === plugId)).toMatchObject({ untilMs: Date.parse(issued.body.expiresAt) });
    expect((await tp.call('POST', `/api/v1/devices/${plugId}/manual-commands`, { token: other.token, body: { kind: 'appliance-start' } })).status).toBe(404);
    const wrongKind = await tp.call('POST', `/api/v1/devices/${plugId}/manual-commands`, { token: member.token, body: { kind: 'battery-power', value: 100 } });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.field).toBe('body/kind');
    const wrongValue = await tp.call('POST', `/api/v1/devices/${devices.battery.deviceId}/manual-commands`, { token: member.token, body: { kind: 'battery-power' } });
    expect(wrongValue.body).toMatchObject({ error: 'bad_request', field: 'body/value' });
    const page = await tp.call('GET', `/api/v1/communities/${communityId}/commands?deviceId=${plugId}&limit=1&offset=1`, { token: manager.token });
    expect(page.body.items).toHaveLength(1);
    expect(page.body.total).toBe(2);
    expect((await tp.call('GET', `/api/v1/communities/${communityId}/commands?state=expired`, { token: manager.token })).body.items
      .every((c: { state: string }) => c.state === 'expired')).toBe(true);
  });

  it('closes the loop: plan → command → simulated battery → its readings', async () => {
    const id = devices.battery3.deviceId;
    const run = await runControlledDevices({
      mqttUrl: tp.platform.mqttUrl.replace('localhost', '127.0.0.1'), intervalMs: 50, now: () => clock.now,
      devices: [{ deviceId: id, model: DEMO_MODELS.battery, password: () => sasFor(devices.battery3) }],
    });
    try {
      await plan([{ deviceId: id, value: 2_500, expiresAtMs: clock.now + 30 * MINUTE }]);
      await deliver();
      await expect.poll(async () => (await commandsOf(id))[0]?.state).toBe('acknowledged');
      clock.now += MINUTE;
      const charged = async () => (await tp.platform.db.query<{ value: number }>(
        `SELECT value FROM readings WHERE device_id = $1 AND quantity = 'battery.power.charge' ORDER BY ts DESC LIMIT 1`, [id]))[0]?.value;
      await expect.poll(charged, { timeout: 5_000 }).toBe(2_500);
    } finally {
      await run.close();
    }
  });

  it('logs every issued command in the verifiable record: the hash of exactly what the device receives, the device only as a commitment', async () => {
    clock.now += MINUTE;
    await plan([
      { deviceId: devices.ev.deviceId, kind: 'ev-charge-power', value: 7_400, expiresAtMs: clock.now + 30 * MINUTE },
      { deviceId: devices.plug.deviceId, kind: 'appliance-start', value: null, expiresAtMs: clock.now + 30 * MINUTE },
    ]);
    const received = [...(await poll(devices.ev)).body.commands, ...(await poll(devices.plug)).body.commands] as Record<string, unknown>[];
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.ledger.job.flush();
    for (const [device, command] of [[devices.ev, received.find((c) => c.kind === 'ev-charge-power')!], [devices.plug, received.find((c) => c.kind === 'appliance-start')!]] as const) {
      const [row] = await tp.platform.db.query<{ body: Uint8Array }>('SELECT body FROM ledger_entries WHERE kind = $1 AND subject = $2', ['command.issued', command.id]);
      expect(row, `no entry for ${String(command.kind)}`).toBeDefined();
      const entry = decodeEntry(row!.body);
      expect(entry).toMatchObject({ kind: 'command.issued', community: communityId, command: command.id, action: command.kind });
      expect(Date.parse(entry.at)).toBe(Date.parse(String(command.issuedAt)));
      // The device checks what it got: the SHA-256 of its RFC 8785 canonical JSON.
      expect(entry).toHaveProperty('payloadSha256', createHash('sha256').update(canonicalize(command)!).digest('hex'));
      const text = new TextDecoder().decode(row!.body);
      expect(text).not.toContain(device.deviceId);
      expect(text).toMatch(/"device":"[0-9a-f]{64}"/);
    }
    // Ingested once: the outbox delivering the event again adds no second entry.
    const [{ count }] = await tp.platform.db.query<{ count: number }>(
      "SELECT count(*)::int AS count FROM ledger_entries WHERE kind = 'command.issued' AND subject = ANY($1::text[])", [received.map((c) => c.id)]) as [{ count: number }];
    expect(count).toBe(2);
  });
});
