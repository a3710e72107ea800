import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, storeKinds } from '../support/stores.js';
import type { Db } from '../../src/platform/store/db.js';
import { addPoint, memberRow, Q, runSharing, storeCommunity, storeIntervals } from './support/stored.js';
import { storeOperatorAllocations } from '../../src/sharing/operator.js';
import { communityQuarters } from '../../src/sharing/index.js';
import { energyTotals } from '../../src/sharing/store.js';
import { BadRequestError, NotFoundError } from '../../src/kernel/errors.js';

const T0 = Date.UTC(2026, 9, 5, 10, 0); // 5 October 2026, 12:00 in Vienna

describe.each(storeKinds)('sharing over stored intervals on %s', (kind) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await openTestDb(kind));
  });
  afterAll(() => close?.());

  it('splits by source per member exactly as computed by hand (dynamic)', async () => {
    const c = await storeCommunity(db, ['library', 'anna', 'ben']);
    const { library, anna, ben } = c.members;
    // Library exports 1000 Wh; Anna imports 600; Ben imports 200 and his PV meter says 500 with nothing exported.
    await storeIntervals(db, c.id, library!.pointId, { [T0]: { importWh: 0, exportWh: 1000, pvWh: 1000 } });
    await storeIntervals(db, c.id, anna!.pointId, { [T0]: { importWh: 600, exportWh: 0 } });
    await storeIntervals(db, c.id, ben!.pointId, { [T0]: { importWh: 200, exportWh: 0, pvWh: 500 } });
    await runSharing(db);
    // Supply 1000 ≥ demand 800: both consumers are covered; 800 to the community, 200 to the grid.
    expect(await memberRow(db, anna!.memberId, T0)).toMatchObject({ consumption: 600, self: 0, fromCommunity: 600, fromGrid: 0, production: 0, quality: 'measured', provisional: false });
    expect(await memberRow(db, ben!.memberId, T0)).toMatchObject({ consumption: 700, self: 500, fromCommunity: 200, fromGrid: 0, production: 500, toCommunity: 0, toGrid: 0 });
    expect(await memberRow(db, library!.memberId, T0)).toMatchObject({ consumption: 0, self: 0, production: 1000, toCommunity: 800, toGrid: 200 });
  });

  it('allocates on what is known when a member\'s data is missing, flags it, and redoes it when the data arrives', async () => {
    const c = await storeCommunity(db, ['library', 'anna', 'ben']);
    const { library, anna, ben } = c.members;
    await storeIntervals(db, c.id, library!.pointId, { [T0]: { importWh: 0, exportWh: 1000 } });
    await storeIntervals(db, c.id, ben!.pointId, { [T0]: { importWh: 400, exportWh: 0 } });
    await runSharing(db);
    // Anna has no interval: she is missing (not a zero consumer), the others' split is provisional.
    expect(await memberRow(db, anna!.memberId, T0)).toMatchObject({ consumption: 0, fromCommunity: 0, quality: 'missing', provisional: true });
    expect(await memberRow(db, ben!.memberId, T0)).toMatchObject({ fromCommunity: 400, quality: 'measured', provisional: true });
    expect(await memberRow(db, library!.memberId, T0)).toMatchObject({ toCommunity: 400, toGrid: 600, provisional: true });

    await storeIntervals(db, c.id, anna!.pointId, { [T0]: { importWh: 1600, exportWh: 0 } });
    await runSharing(db);
    // Demand 2000 > supply 1000: dynamic gives 1000 × 1600/2000 = 800 and 1000 × 400/2000 = 200.
    expect(await memberRow(db, anna!.memberId, T0)).toMatchObject({ fromCommunity: 800, fromGrid: 800, quality: 'measured', provisional: false });
    expect(await memberRow(db, ben!.memberId, T0)).toMatchObject({ fromCommunity: 200, fromGrid: 200, provisional: false });
    expect(await memberRow(db, library!.memberId, T0)).toMatchObject({ toCommunity: 1000, toGrid: 0, provisional: false });
  });

  it('sums a member\'s metering points and keeps an identical result when the same data is stored again', async () => {
    const c = await storeCommunity(db, ['library', 'anna']);
    const { library, anna } = c.members;
    const garage = await addPoint(db, c.id, anna!.memberId, 'garage');
    await storeIntervals(db, c.id, library!.pointId, { [T0]: { importWh: 0, exportWh: 500 } });
    await storeIntervals(db, c.id, anna!.pointId, { [T0]: { importWh: 300, exportWh: 0 } });
    await storeIntervals(db, c.id, garage, { [T0]: { importWh: 400, exportWh: 0 } });
    await runSharing(db);
    const first = await memberRow(db, anna!.memberId, T0);
    expect(first).toMatchObject({ consumption: 700, fromCommunity: 500, fromGrid: 200 });
    await storeIntervals(db, c.id, garage, { [T0]: { importWh: 400, exportWh: 0 } });
    await runSharing(db);
    expect(await memberRow(db, anna!.memberId, T0)).toEqual(first);
  });

  it('recomputes whole hours for hourly rules (it-cer)', async () => {
    const c = await storeCommunity(db, ['plant', 'anna'], { rule: 'it-cer' });
    const { plant, anna } = c.members;
    // Injection only in the first quarter, withdrawal only in the last: hourly shared energy min(2000, 1000) = 1000.
    const hour = Object.fromEntries([0, 1, 2, 3].map((q) => [T0 + q * Q, { importWh: 0, exportWh: q === 0 ? 2000 : 0 }]));
    await storeIntervals(db, c.id, plant!.pointId, hour);
    await storeIntervals(db, c.id, anna!.pointId, Object.fromEntries([0, 1, 2, 3].map((q) => [T0 + q * Q, { importWh: q === 3 ? 1000 : 0, exportWh: 0 }])));
    await runSharing(db);
    expect((await memberRow(db, anna!.memberId, T0 + 3 * Q))!.fromCommunity).toBe(1000);
    // A late change in one quarter changes the hour: the withdrawal doubles, shared energy 2000.
    await storeIntervals(db, c.id, anna!.pointId, { [T0 + 3 * Q]: { importWh: 2500, exportWh: 0 } });
    await runSharing(db);
    expect((await memberRow(db, anna!.memberId, T0 + 3 * Q))!.fromCommunity).toBe(2000);
    expect((await memberRow(db, plant!.memberId, T0))!.toCommunity).toBe(2000);
  });

  it('uses the static key in force, versioned, and nothing without one', async () => {
    const c = await storeCommunity(db, ['library', 'anna', 'ben'], { rule: 'static' });
    const { library, anna, ben } = c.members;
    await storeIntervals(db, c.id, library!.pointId, { [T0]: { importWh: 0, exportWh: 1000 }, [T0 + Q]: { importWh: 0, exportWh: 1000 } });
    await storeIntervals(db, c.id, anna!.pointId, { [T0]: { importWh: 900, exportWh: 0 }, [T0 + Q]: { importWh: 900, exportWh: 0 } });
    await storeIntervals(db, c.id, ben!.pointId, { [T0]: { importWh: 900, exportWh: 0 }, [T0 + Q]: { importWh: 900, exportWh: 0 } });
    await runSharing(db);
    expect((await memberRow(db, anna!.memberId, T0))!.fromCommunity).toBe(0);
    await db.query(
      `INSERT INTO allocation_shares (community_id, valid_from, member_id, share) VALUES ($1, $2, $3, 0.7), ($1, $2, $4, 0.2), ($1, $5, $3, 0.5), ($1, $5, $4, 0.5)`,
      [c.id, new Date(T0), anna!.memberId, ben!.memberId, new Date(T0 + Q)],
    );
    const { markSharingDirtyFrom } = await import('../../src/sharing/service.js');
    await markSharingDirtyFrom(db, c.id, T0);
    await runSharing(db);
    expect((await memberRow(db, anna!.memberId, T0))!.fromCommunity).toBe(700);
    expect((await memberRow(db, ben!.memberId, T0))!.fromCommunity).toBe(200);
    expect((await memberRow(db, library!.memberId, T0))!.toGrid).toBe(100);
    expect((await memberRow(db, anna!.memberId, T0 + Q))!.fromCommunity).toBe(500);
  });

  it('operator mode takes the split from the operator\'s figures and derives the grid parts from our meters', async () => {
    const c = await storeCommunity(db, ['library', 'anna'], { mode: 'operator' });
    const { library, anna } = c.members;
    await storeIntervals(db, c.id, library!.pointId, { [T0]: { importWh: 0, exportWh: 1000 } });
    await storeIntervals(db, c.id, anna!.pointId, { [T0]: { importWh: 800, exportWh: 0 } });
    await runSharing(db);
    // No operator figures yet: nothing shared, and flagged.
    expect(await memberRow(db, anna!.memberId, T0)).toMatchObject({ fromCommunity: 0, fromGrid: 800, provisional: true });

    await storeOperatorAllocations(db, c.id, [
      { meteringPointId: anna!.pointId, startMs: T0, consumptionWh: 800, fromCommunityWh: 650, productionWh: null, toCommunityWh: null, source: 'EDA-1' },
      { meteringPointId: library!.pointId, startMs: T0, consumptionWh: null, fromCommunityWh: null, productionWh: 1000, toCommunityWh: 650, source: 'EDA-1' },
    ]);
    await runSharing(db);
    expect(await memberRow(db, anna!.memberId, T0)).toMatchObject({ consumption: 800, fromCommunity: 650, fromGrid: 150, provisional: false });
    expect(await memberRow(db, library!.memberId, T0)).toMatchObject({ production: 1000, toCommunity: 650, toGrid: 350 });
    const stored = await db.query<{ source: string }>('SELECT source FROM operator_allocations WHERE metering_point_id = $1', [anna!.pointId]);
    expect(stored).toEqual([{ source: 'EDA-1' }]);

    // A later message with only some codes replaces those and keeps the rest.
    await storeOperatorAllocations(db, c.id, [
      { meteringPointId: anna!.pointId, startMs: T0, consumptionWh: null, fromCommunityWh: 700, productionWh: null, toCommunityWh: null, source: 'EDA-2' },
      { meteringPointId: library!.pointId, startMs: T0, consumptionWh: null, fromCommunityWh: null, productionWh: null, toCommunityWh: 700, source: 'EDA-2' },
    ]);
    await runSharing(db);
    expect(await memberRow(db, anna!.memberId, T0)).toMatchObject({ fromCommunity: 700, fromGrid: 100 });
    expect(await db.query('SELECT consumption_wh, from_community_wh, source FROM operator_allocations WHERE metering_point_id = $1', [anna!.pointId]))
      .toEqual([{ consumption_wh: 800, from_community_wh: 700, source: 'EDA-2' }]);
  });

  it('refuses bad operator rows and stores none of them', async () => {
    const c = await storeCommunity(db, ['anna'], { mode: 'operator' });
    const other = await storeCommunity(db, ['bob'], { mode: 'operator' });
    const good = { meteringPointId: c.members.anna!.pointId, startMs: T0, consumptionWh: 1, fromCommunityWh: 1, productionWh: null, toCommunityWh: null, source: 'm' };
    await expect(storeOperatorAllocations(db, c.id, [good, { ...good, startMs: T0 + 1 }])).rejects.toBeInstanceOf(BadRequestError);
    await expect(storeOperatorAllocations(db, c.id, [good, { ...good, startMs: T0 + Q, fromCommunityWh: Number.NaN }])).rejects.toBeInstanceOf(BadRequestError);
    await expect(storeOperatorAllocations(db, c.id, [good, { ...good, startMs: T0 + Q, fromCommunityWh: -1 }])).rejects.toBeInstanceOf(BadRequestError);
    await expect(storeOperatorAllocations(db, c.id, [good, good])).rejects.toBeInstanceOf(BadRequestError);
    await expect(storeOperatorAllocations(db, c.id, [good, { ...good, meteringPointId: other.members.bob!.pointId }])).rejects.toBeInstanceOf(NotFoundError);
    const rows = await db.query('SELECT 1 FROM operator_allocations WHERE community_id = $1', [c.id]);
    expect(rows).toEqual([]);
  });

  it('never turns grid energy stored in a battery behind the meter into own PV, also after late data', async () => {
    const c = await storeCommunity(db, ['home']);
    const { home } = c.members;
    // 12:15: the battery discharges 800 Wh to the load (import 0). Nothing before is known yet:
    // energy of unknown origin counts as grid.
    await storeIntervals(db, c.id, home!.pointId, { [T0 + Q]: { importWh: 0, exportWh: 0, pvWh: 0, chargeWh: 0, dischargeWh: 800 } });
    await runSharing(db);
    expect(await memberRow(db, home!.memberId, T0 + Q)).toMatchObject({ consumption: 800, self: 0, fromGrid: 800 });
    // 12:00 arrives late: the battery was charged with 1000 Wh, 600 from PV and 400 imported from the grid.
    await storeIntervals(db, c.id, home!.pointId, { [T0]: { importWh: 400, exportWh: 0, pvWh: 600, chargeWh: 1000, dischargeWh: 0 } });
    await runSharing(db);
    expect(await memberRow(db, home!.memberId, T0)).toMatchObject({ consumption: 0, self: 0, fromGrid: 0 });
    // The pool is 60 % PV, 40 % grid: 800 discharged → 480 own PV, 320 grid — recomputed forward.
    expect(await memberRow(db, home!.memberId, T0 + Q)).toMatchObject({ consumption: 800, self: 480, fromGrid: 320 });
    const pools = await db.query<{ own_pv_wh: number; grid_wh: number }>(
      'SELECT own_pv_wh, grid_wh FROM battery_pools WHERE metering_point_id = $1 ORDER BY start', [home!.pointId]);
    expect(pools).toEqual([{ own_pv_wh: 600, grid_wh: 400 }, { own_pv_wh: 120, grid_wh: 80 }]);
  });

  it('marks community energy that a community battery had stored from the grid', async () => {
    const c = await storeCommunity(db, ['manager', 'anna']);
    const battery = await addPoint(db, c.id, c.members.manager!.memberId, 'battery', true);
    await db.query('DELETE FROM metering_points WHERE id = $1', [c.members.manager!.pointId]);
    // 12:00: the battery charges 1000 from the grid (nobody exports). 12:15: it releases 1000; Anna imports 1000.
    await storeIntervals(db, c.id, battery, { [T0]: { importWh: 1000, exportWh: 0 }, [T0 + Q]: { importWh: 0, exportWh: 1000 } });
    await storeIntervals(db, c.id, c.members.anna!.pointId, { [T0]: { importWh: 0, exportWh: 0 }, [T0 + Q]: { importWh: 1000, exportWh: 0 } });
    await runSharing(db);
    expect(await memberRow(db, c.members.anna!.memberId, T0 + Q)).toMatchObject({ fromCommunity: 1000, gridOrigin: 1000 });
    // The battery's flows are its own row, not its holder's: the manager consumed and produced nothing.
    const battery12 = (await energyTotals(db, 'batteries', c.id, T0, T0 + Q)).get(battery);
    const battery1215 = (await energyTotals(db, 'batteries', c.id, T0 + Q, T0 + 2 * Q)).get(battery);
    expect(battery12).toMatchObject({ consumptionWh: 1000, fromGridWh: 1000, productionWh: 0 });
    expect(battery1215).toMatchObject({ consumptionWh: 0, productionWh: 1000, toCommunityWh: 1000 });
    expect(await memberRow(db, c.members.manager!.memberId, T0)).toMatchObject({ consumption: 0, production: 0 });
    expect(await memberRow(db, c.members.manager!.memberId, T0 + Q)).toMatchObject({ consumption: 0, production: 0 });
    expect((await energyTotals(db, 'members', c.id, T0, T0 + 2 * Q)).get(c.members.manager!.memberId)).toMatchObject({ consumptionWh: 0, productionWh: 0 });
    // The community's totals count the battery: what it gave is what Anna received.
    const community = await communityQuarters(db, c.id, T0, T0 + 2 * Q);
    expect(community.map((q) => [q.consumptionWh, q.toCommunityWh, q.fromCommunityWh])).toEqual([[1000, 0, 0], [1000, 1000, 1000]]);
  });

  it('leaves a community battery out until its first data: nobody is provisional for a battery not installed yet', async () => {
    const c = await storeCommunity(db, ['manager', 'plant', 'anna']);
    const battery = await addPoint(db, c.id, c.members.manager!.memberId, 'battery', true);
    await db.query('DELETE FROM metering_points WHERE id = $1', [c.members.manager!.pointId]);
    await storeIntervals(db, c.id, c.members.plant!.pointId, { [T0]: { importWh: 0, exportWh: 500 } });
    await storeIntervals(db, c.id, c.members.anna!.pointId, { [T0]: { importWh: 300, exportWh: 0 } });
    await runSharing(db);
    expect(await memberRow(db, c.members.anna!.memberId, T0)).toMatchObject({ fromCommunity: 300, quality: 'measured', provisional: false });
    expect((await energyTotals(db, 'batteries', c.id, T0, T0 + Q)).has(battery)).toBe(false);
    const pools = await db.query('SELECT 1 FROM battery_pools WHERE metering_point_id = $1', [battery]);
    expect(pools).toEqual([]);
  });

  it('stores a missing community battery as its own missing row: its holder and the members are provisional, not missing', async () => {
    const c = await storeCommunity(db, ['manager', 'plant', 'anna']);
    const battery = await addPoint(db, c.id, c.members.manager!.memberId, 'battery', true);
    await storeIntervals(db, c.id, c.members.manager!.pointId, { [T0]: { importWh: 100, exportWh: 0 }, [T0 + Q]: { importWh: 100, exportWh: 0 } });
    await storeIntervals(db, c.id, c.members.plant!.pointId, { [T0]: { importWh: 0, exportWh: 500 }, [T0 + Q]: { importWh: 0, exportWh: 500 } });
    await storeIntervals(db, c.id, c.members.anna!.pointId, { [T0]: { importWh: 300, exportWh: 0 }, [T0 + Q]: { importWh: 300, exportWh: 0 } });
    // The battery reported 12:00 only.
    await storeIntervals(db, c.id, battery, { [T0]: { importWh: 100, exportWh: 0 } });
    await runSharing(db);
    expect(await memberRow(db, c.members.manager!.memberId, T0 + Q)).toMatchObject({ consumption: 100, quality: 'measured', provisional: true });
    expect(await memberRow(db, c.members.anna!.memberId, T0 + Q)).toMatchObject({ quality: 'measured', provisional: true });
    expect(await memberRow(db, c.members.manager!.memberId, T0)).toMatchObject({ consumption: 100, provisional: false });
    expect((await energyTotals(db, 'batteries', c.id, T0, T0 + Q)).get(battery)).toMatchObject({ consumptionWh: 100 });
    // Its quarter hour arrives: the battery's row and everyone's split are made again, final.
    await storeIntervals(db, c.id, battery, { [T0 + Q]: { importWh: 200, exportWh: 0 } });
    await runSharing(db);
    expect((await energyTotals(db, 'batteries', c.id, T0 + Q, T0 + 2 * Q)).get(battery)).toMatchObject({ consumptionWh: 200 });
    expect(await memberRow(db, c.members.manager!.memberId, T0 + Q)).toMatchObject({ consumption: 100, provisional: false });
    expect(await memberRow(db, c.members.anna!.memberId, T0 + Q)).toMatchObject({ provisional: false });
  });
});
