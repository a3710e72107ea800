import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { parsePrice } from '../../src/kernel/money.js';
import { DsoSimulator, generateSigningKey, type AGRPortfolioQuery, type AGRPortfolioQueryResponse } from '../../src/flex/index.js';
import { schemas } from './support.js';

/**
 * The AGRPortfolioQuery on its schedule, over real HTTP with the DSO simulator playing the CRO: the
 * `flex portfolio query` job asks every CRO of the address book once a day for tomorrow's Period,
 * and the CRO's answer replaces the congestion points and connections of the DSOs it names
 * (source `cro`), keeping the manager's D-Prognosis gate.
 */

const AGR = 'community.portfolio.example.org';
const DSO = 'dso-sim.portfolio.example.org';
const CP = 'ea1.2026-01.org.example.dso-sim:cp-9';
const ZONE = 'Europe/Vienna';
/** 2026-05-31 11:00 local: tomorrow is 2026-06-01. */
const START = Date.UTC(2026, 4, 31, 9, 0);
const HOUR = 3_600_000;

describe.each(platformStoreKinds)('the AGR asks the CRO for its portfolio daily, on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let sim: DsoSimulator;
  let clock = START;
  let dsoId = '';
  let croId = '';
  const connections: string[] = [];

  const manager = (method: string, url: string, body?: unknown) => tp.call(method, url, { token: w.managerA.token, body });
  const portfolio = async () => (await manager('GET', `/api/v1/communities/${w.communityA}/flex/portfolio`)).body as
    { participantId: string; entityAddress: string; source: string; connections: string[]; matchedMeteringPoints: number; prognosisGate: string; mutexOffersSupported: boolean }[];
  const queries = () => sim.received.filter((m): m is AGRPortfolioQuery => m.type === 'AGRPortfolioQuery');
  /** One pass of the job, then both sides answer until nothing is in flight. */
  const query = async () => {
    await tp.platform.flex.portfolioQuery.flush();
    for (let round = 0; round < 3; round++) {
      await tp.platform.flex.outbox.flush();
      await sim.idle();
    }
  };

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { flex: { now: () => clock } });
    w = await buildWorld(tp);
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
      schemas: schemas(), terms: { penaltyPerKwh: parsePrice('0.30'), remuneration: 'delivered' }, now: () => clock, meteredEnergyWh: () => new Map(),
    });
    sim.portfolioUpdate('2026-01-01');
    const dso = await manager('POST', `/api/v1/communities/${w.communityA}/flex/participants`, { domain: DSO, role: 'DSO', endpoint: sim.url, publicKeys: [sim.publicKey], congestionPoints: [CP] });
    expect(dso.status, JSON.stringify(dso.body)).toBe(201);
    dsoId = dso.body.id;
    // The manager entered the congestion point with one connection and an earlier gate before the CRO was asked.
    const entered = await manager('PUT', `/api/v1/flex/participants/${dsoId}/portfolio`, { congestionPoints: [{ entityAddress: CP, connections: [connections[0]], prognosisGate: '10:30' }] });
    expect(entered.status, JSON.stringify(entered.body)).toBe(200);
  }, 180_000);
  afterAll(async () => {
    await sim?.close();
    await tp?.close();
  });

  it('asks nobody while the address book has no CRO', async () => {
    await query();
    expect(queries()).toEqual([]);
    expect(await portfolio()).toMatchObject([{ entityAddress: CP, source: 'manager', connections: [connections[0]], matchedMeteringPoints: 1, prognosisGate: '10:30' }]);
  });

  it('queries the CRO for tomorrow and takes its congestion points and connections, keeping the manager\'s gate', async () => {
    const cro = await manager('POST', `/api/v1/communities/${w.communityA}/flex/participants`, { domain: DSO, role: 'CRO', endpoint: sim.url, publicKeys: [sim.publicKey] });
    expect(cro.status, JSON.stringify(cro.body)).toBe(201);
    croId = cro.body.id;
    await query();
    expect(queries()).toMatchObject([{ senderDomain: AGR, recipientDomain: DSO, timeZone: ZONE, period: '2026-06-01' }]);
    const answers = sim.sent.filter((s) => s.message.type === 'AGRPortfolioQueryResponse');
    expect(answers.map((a) => a.status)).toEqual([200]);
    expect(await portfolio()).toEqual([expect.objectContaining({
      participantId: dsoId, entityAddress: CP, source: 'cro', connections: [...connections].sort(), matchedMeteringPoints: 2, prognosisGate: '10:30', mutexOffersSupported: true,
    })]);
    const stored = (await manager('GET', `/api/v1/communities/${w.communityA}/flex/messages?limit=50`)).body as { type: string; state: string }[];
    expect(stored.filter((m) => m.type === 'AGRPortfolioQuery')).toMatchObject([{ state: 'accepted' }]);
  });

  it('asks once a day: not again within 24 hours, again after', async () => {
    clock = START + 23 * HOUR;
    await query();
    expect(queries()).toHaveLength(1);
    clock = START + 24 * HOUR + 1;
    await query();
    expect(queries().map((q) => q.period)).toEqual(['2026-06-01', '2026-06-02']);
    expect(await portfolio()).toMatchObject([{ entityAddress: CP, source: 'cro', matchedMeteringPoints: 2 }]);
  });

  it('refuses an answer to a query it never sent, and ignores DSOs it does not know; the latest answer replaces the connections', async () => {
    const answer = (agrPortfolioQueryMessageId: string, dsoPortfolios: AGRPortfolioQueryResponse['dsoViews'][number]['dsoPortfolios']): AGRPortfolioQueryResponse => ({
      type: 'AGRPortfolioQueryResponse', version: '3.1.0', senderDomain: DSO, recipientDomain: AGR, timeStamp: clock, messageId: crypto.randomUUID(), conversationId: crypto.randomUUID(),
      result: 'Accepted', timeZone: ZONE, agrPortfolioQueryMessageId, period: '2026-06-02', dsoViews: [{ dsoPortfolios, connections: [] }],
    });
    const onlyFirst = [{ dsoDomain: DSO, congestionPoints: [{ entityAddress: CP, mutexOffersSupported: false, dayAheadRedispatchBy: 'AGR' as const, connections: [{ entityAddress: connections[0]! }] }] }];
    // Unknown query: rejected, nothing changes.
    expect(await sim.send(answer(crypto.randomUUID(), onlyFirst), 'CRO')).toBe(200);
    await query();
    expect(await portfolio()).toMatchObject([{ entityAddress: CP, connections: [...connections].sort(), matchedMeteringPoints: 2 }]);
    const stored = (await manager('GET', `/api/v1/communities/${w.communityA}/flex/messages?limit=50`)).body as { type: string; state: string; rejectionReason: string | null }[];
    expect(stored.find((m) => m.type === 'AGRPortfolioQueryResponse' && m.state === 'rejected')?.rejectionReason).toContain('is not known');
    // A second answer to the latest query: CP now has one connection; a DSO outside the address book is ignored.
    const latest = queries().at(-1)!;
    expect(await sim.send(answer(latest.messageId, [...onlyFirst, { dsoDomain: 'other-dso.example.org', congestionPoints: [{ ...onlyFirst[0]!.congestionPoints[0]!, entityAddress: 'ea1.2026-01.org.example.other:cp-1' }] }]), 'CRO')).toBe(200);
    await query();
    expect(await portfolio()).toEqual([expect.objectContaining({ entityAddress: CP, source: 'cro', connections: [connections[0]], matchedMeteringPoints: 1, mutexOffersSupported: false, prognosisGate: '10:30' })]);
  });

  it('does not ask a barred CRO', async () => {
    const entry = (await manager('GET', `/api/v1/communities/${w.communityA}/flex/participants`)).body.find((p: { id: string }) => p.id === croId);
    const { id: _id, communityId: _c, createdAt: _a, updatedAt: _u, ...input } = entry;
    expect((await manager('PUT', `/api/v1/flex/participants/${croId}`, { ...input, barred: true })).status).toBe(200);
    clock = START + 49 * HOUR;
    await query();
    expect(queries()).toHaveLength(2);
  });
});
