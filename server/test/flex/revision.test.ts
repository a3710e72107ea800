import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { storeIntervals } from '../sharing/support/stored.js';
import { parsePrice } from '../../src/kernel/money.js';
import { DsoSimulator, generateSigningKey, ispStartMs, perIsp, periodGrid, readPayload, type DPrognosis, type PeriodGrid } from '../../src/flex/index.js';
import { schemas } from './support.js';

/**
 * Operate: while the Period of an accepted order runs, a delivery that deviates materially from the
 * order makes the community re-plan the rest of the day and send the DSO a revised D-Prognosis —
 * over HTTP to the DSO simulator, which opens and schema-checks it. Delivery as ordered sends
 * nothing; the ISPs that have begun keep what was sent; a second pass with nothing new sends nothing.
 */

const AGR = 'community.revise.example.org';
const DSO = 'dso-sim.revise.example.org';
const CP = 'ea1.2026-01.org.example.dso-sim:cp-revise';
const ZONE = 'Europe/Vienna';
const PERIOD = '2026-06-01';
/** The day before the Period, 10:30 local: the D-Prognosis is due (gate 12:00, two hours' lead). */
const BEFORE = Date.UTC(2026, 4, 31, 8, 30);
/** ISPs 73–76: 18:00–19:00 local. */
const ORDERED = [73, 74, 75, 76];
const at = (grid: PeriodGrid, isp: number, minutes: number) => ispStartMs(grid, isp) + minutes * 60_000;

describe('a revised D-Prognosis when delivery deviates from the order', () => {
  let tp: TestPlatform;
  let w: World;
  let sim: DsoSimulator;
  let clock = BEFORE;
  let grid: PeriodGrid;
  let baseline = new Map<number, number>();
  let ordered = new Map<number, number>();
  const manager = (method: string, url: string, body?: unknown) => tp.call(method, url, { token: w.managerA.token, body });
  const exchange = async () => {
    for (let round = 0; round < 4; round++) {
      await tp.platform.flex.prognosis.flush();
      await tp.platform.flex.validate.flush();
      await tp.platform.flex.outbox.flush();
      await sim.idle();
    }
  };
  const prognoses = () => sim.received.filter((m): m is DPrognosis => m.type === 'D-Prognosis' && m.period === PERIOD);
  /** The two members' metered quarter hours of an ISP adding up to `powerW` of net import (member A2's point takes it all). */
  const meter = async (isp: number, powerW: number) => {
    const wh = Math.round(powerW / 4);
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA, { [ispStartMs(grid, isp)]: { importWh: 0, exportWh: 0 } });
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, { [ispStartMs(grid, isp)]: { importWh: Math.max(0, wh), exportWh: Math.max(0, -wh) } });
  };

  beforeAll(async () => {
    tp = await startTestPlatform('pglite', { flex: { now: () => clock, replanTimeLimitS: 10 }, optimise: { now: () => clock, delayMs: 600_000, timeLimitS: 10, steps: 192 } });
    w = await buildWorld(tp);
    grid = periodGrid(PERIOD, ZONE, 15)!;
    const connections: string[] = [];
    for (const point of [w.meteringPointA, w.meteringPointA2]) {
      const ean = `8716859${String(Math.floor(Math.random() * 1e11)).padStart(11, '0')}`;
      expect((await manager('PATCH', `/api/v1/metering-points/${point}`, { gridConnectionId: ean })).status).toBe(200);
      connections.push(`ean.${ean}`);
    }
    const identity = await manager('PUT', `/api/v1/communities/${w.communityA}/flex/identity`, { domain: AGR, timeZone: ZONE });
    expect(identity.status, JSON.stringify(identity.body)).toBe(200);
    sim = await DsoSimulator.start({
      domain: DSO, signingKey: generateSigningKey(), congestionPoint: CP, connections, timeZone: ZONE, ispDurationMinutes: 15,
      agr: { url: `${tp.platform.httpUrl.replace('localhost', '127.0.0.1')}/shapeshifter/api/v3/message`, domain: AGR, publicKey: identity.body.publicKey },
      schemas: schemas(), terms: { penaltyPerKwh: parsePrice('0.30'), remuneration: 'delivered' }, now: () => clock,
    });
    const participant = await manager('POST', `/api/v1/communities/${w.communityA}/flex/participants`, { domain: DSO, role: 'DSO', endpoint: sim.url, publicKeys: [sim.publicKey], congestionPoints: [CP] });
    expect(participant.status, JSON.stringify(participant.body)).toBe(201);
    expect((await manager('PUT', `/api/v1/flex/participants/${participant.body.id}/portfolio`, { congestionPoints: [{ entityAddress: CP, connections }] })).status).toBe(200);
    const contract = await manager('POST', `/api/v1/communities/${w.communityA}/flex/contracts`, {
      participantId: participant.body.id, congestionPoints: [CP], serviceType: 'congestion-management', validFrom: '2026-01-01', validTo: '2026-12-31',
      windows: [{ weekdays: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '24:00' }], capacityRemuneration: '0', volumeRemuneration: '0.10', penaltyRate: '0.30',
    });
    expect(contract.status, JSON.stringify(contract.body)).toBe(201);
    expect((await manager('POST', `/api/v1/flex/contracts/${contract.body.id}/activate`)).status).toBe(200);
    // Member A2's home battery, controllable by the plan, takes part.
    const battery = await manager('POST', `/api/v1/communities/${w.communityA}/devices`, { kind: 'battery', name: 'Flex battery', meteringPointId: w.meteringPointA2, role: 'storage' });
    expect(battery.status, JSON.stringify(battery.body)).toBe(201);
    expect((await tp.call('PUT', `/api/v1/devices/${battery.body.id}/control`, { token: w.memberA2.token, body: { controllable: true, limits: { capacityWh: 10_000, reserveSoc: 0.1 } } })).status).toBe(200);
    expect((await tp.call('PUT', `/api/v1/flex/contracts/${contract.body.id}/devices/${battery.body.id}`, { token: w.memberA2.token, body: {} })).status).toBe(200);

    // The day before: the prognosis job sends revision 1; the DSO asks for exactly 1200 W less in ISPs 73–76, no rebound; offer, order.
    await exchange();
    expect(prognoses().map((p) => p.revision)).toEqual([1]);
    await sim.sendFlexRequest(PERIOD, [{ start: 73, duration: 4, minPower: -1_200, maxPower: -1_200 }], grid.startMs - 3_600_000, { minPower: 0, maxPower: 0 });
    await exchange();
    expect(sim.received.some((m) => m.type === 'FlexOffer')).toBe(true);
    expect(sim.orders).toMatchObject([{ state: 'accepted' }]);
    ordered = perIsp(sim.orders[0]!.order.isps, (i) => i.power);
    expect([...ordered.keys()]).toEqual(ORDERED);
    expect(ordered.get(74)).toBe(-1_200);
    const [stored] = (await manager('GET', `/api/v1/communities/${w.communityA}/flex/offers`)).body as { baseline: { isp: number; powerW: number }[] }[];
    baseline = new Map(stored!.baseline.map((b) => [b.isp, b.powerW]));
  }, 240_000);
  afterAll(async () => {
    await sim?.close();
    await tp?.close();
  });

  it('sends nothing while the delivery is as ordered', async () => {
    clock = at(grid, 74, 5); // 18:20: ISP 73 is over and metered
    await meter(73, baseline.get(73)! + ordered.get(73)!);
    await exchange();
    expect(prognoses().map((p) => p.revision)).toEqual([1]);
  });

  it('re-plans the rest of the day and sends revision 2 when an ISP misses the order materially (1200 W); the ISPs begun keep what was sent', async () => {
    clock = at(grid, 75, 5); // 18:35: ISP 74 delivered nothing (1200 W off the order, more than the 1 kW threshold)
    await meter(74, baseline.get(74)!);
    await exchange();
    const sent = prognoses();
    expect(sent.map((p) => p.revision)).toEqual([1, 2]);
    const [first, revised] = [perIsp(sent[0]!.isps, (i) => i.power), perIsp(sent[1]!.isps, (i) => i.power)];
    expect(revised.size).toBe(grid.count);
    // ISPs 1–75 have begun (the plan starts at 18:45, ISP 76): as sent before.
    for (let isp = 1; isp <= 75; isp++) expect(revised.get(isp), `ISP ${isp}`).toBe(first.get(isp));
    // ISP 76 is planned with the order holding it: the offer's baseline + the ordered power.
    expect(revised.get(76)).toBeCloseTo(baseline.get(76)! + ordered.get(76)!, -1);
    // Material: some ISP moved by more than 1 kW or 10 %.
    expect([...revised].some(([isp, power]) => Math.abs(power - first.get(isp)!) > Math.max(1_000, 0.1 * Math.abs(first.get(isp)!)))).toBe(true);
    // Stored as sent, accepted by the DSO; the manager's day shows revision 2.
    const day = await manager('GET', `/api/v1/communities/${w.communityA}/flex/prognosis?period=${PERIOD}`);
    expect(day.body.congestionPoints).toMatchObject([{ congestionPoint: CP, revision: 2 }]);
    const messages = (await manager('GET', `/api/v1/communities/${w.communityA}/flex/messages?limit=100`)).body as { type: string; direction: string; state: string; payloadXml: string }[];
    const ofPeriod = messages.filter((m) => m.type === 'D-Prognosis' && m.direction === 'out').map((m) => ({ state: m.state, prognosis: readPayload(m.payloadXml, schemas()) as DPrognosis }))
      .filter((m) => m.prognosis.period === PERIOD);
    expect(ofPeriod.map((m) => [m.prognosis.revision, m.state]).sort()).toEqual([[1, 'accepted'], [2, 'accepted']]);
  });

  it('sends no further revision when nothing changed materially since', async () => {
    await exchange();
    expect(prognoses().map((p) => p.revision)).toEqual([1, 2]);
  });
});
