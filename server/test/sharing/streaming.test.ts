import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, storeKinds } from '../support/stores.js';
import type { Db } from '../../src/platform/store/db.js';
import { addPoint, Q, storeCommunity, storeIntervals, type StoredInterval } from './support/stored.js';
import { markSharingDirty, processSharingDirty, QUARTERS_PER_CHUNK } from '../../src/sharing/service.js';
import { provisionalFigures } from '../../src/operator/index.js';
import { inStartOrder, memberEnergyColumns, wholeNumbers, memberQuarters, type MemberEnergyColumns } from '../../src/sharing/store.js';

const T0 = Date.UTC(2026, 9, 5, 0, 0);
/** Two and a half days: the job takes them a day at a time, in three transactions. */
const QUARTERS = 240;
const NAMES = ['plant', 'anna', 'ben', 'cara'] as const;

/** Deterministic quarter hours with a producer, a battery behind Ben's meter, a community battery (Cara's) and a gap at Anna. */
function series(name: (typeof NAMES)[number] | 'battery'): Record<number, StoredInterval> {
  const byStart: Record<number, StoredInterval> = {};
  for (let t = 0; t < QUARTERS; t++) {
    const q = t % 96;
    const day = q >= 28 && q < 68;
    let iv: StoredInterval;
    if (name === 'plant') iv = { importWh: day ? 0 : 20, exportWh: day ? 300 + ((t * 37) % 500) : 0 };
    else if (name === 'anna') iv = { importWh: 100 + ((t * 13) % 150), exportWh: 0 };
    else if (name === 'ben') {
      iv = { importWh: 50 + ((t * 7) % 300), exportWh: 0, pvWh: day ? 150 : 0, chargeWh: q >= 40 && q < 50 ? 100 : 0, dischargeWh: q >= 70 && q < 80 ? 80 : 0 };
    } else if (name === 'cara') iv = { importWh: 80 + ((t * 11) % 90), exportWh: 0 };
    else iv = { importWh: q >= 30 && q < 40 ? 200 : 0, exportWh: q >= 72 && q < 80 ? 150 : 0 };
    // Anna's meter misses a quarter hour on the second day: the others' split there is provisional.
    if (name === 'anna' && t === 150) continue;
    byStart[T0 + t * Q] = iv;
  }
  return byStart;
}

async function seed(db: Db): Promise<string> {
  const c = await storeCommunity(db, NAMES);
  const battery = await addPoint(db, c.id, c.members.cara!.memberId, 'battery', true);
  for (const name of NAMES) await storeIntervals(db, c.id, c.members[name]!.pointId, series(name));
  await storeIntervals(db, c.id, battery, series('battery'));
  return c.id;
}

/** Every stored row of the community by member name and quarter hour (ids differ between communities). */
async function stored(db: Db, communityId: string): Promise<unknown[]> {
  return db.query(
    `SELECT m.display_name, e.start, e.import_wh, e.export_wh, e.consumption_wh, e.self_consumed_wh, e.from_community_wh, e.from_grid_wh,
       e.production_wh, e.to_community_wh, e.to_grid_wh, e.allocated_from_community_wh, e.community_grid_origin_wh, e.quality, e.provisional
     FROM member_energy e JOIN members m ON m.id = e.member_id WHERE e.community_id = $1 ORDER BY e.start, m.display_name`,
    [communityId],
  );
}

async function pools(db: Db, communityId: string): Promise<unknown[]> {
  return db.query(
    `SELECT p.name, b.start, b.own_pv_wh, b.community_wh, b.grid_wh FROM battery_pools b JOIN metering_points p ON p.id = b.metering_point_id
     WHERE p.community_id = $1 ORDER BY b.start, p.name`,
    [communityId],
  );
}

const marksOf = async (db: Db, communityId: string) =>
  (await db.query<{ start: Date }>('SELECT start FROM sharing_dirty WHERE community_id = $1 ORDER BY start', [communityId])).map((r) => r.start.getTime());

async function runAll(db: Db, quartersPerChunk?: number): Promise<void> {
  while ((await processSharingDirty(db, provisionalFigures, undefined, undefined, quartersPerChunk)) > 0) { /* until nothing is marked */ }
}

describe.each(storeKinds)('the sharing job in chunks on %s', (kind) => {
  let db: Db;
  let close: () => Promise<void>;
  let reference: { rows: unknown[]; pools: unknown[] };
  beforeAll(async () => {
    ({ db, close } = await openTestDb(kind));
    // The same period split in one go (one chunk of every marked quarter hour) is the reference.
    const whole = await seed(db);
    await runAll(db, QUARTERS);
    reference = { rows: await stored(db, whole), pools: await pools(db, whole) };
  });
  afterAll(() => close?.());

  it('gives exactly the rows and battery pools of the same period split in one go', async () => {
    expect(QUARTERS_PER_CHUNK).toBeLessThan(QUARTERS);
    expect(reference.rows).toHaveLength(QUARTERS * NAMES.length);
    expect(reference.rows.some((r) => (r as { provisional: boolean }).provisional)).toBe(true);
    expect(reference.pools.length).toBeGreaterThan(0);
    const chunked = await seed(db);
    await runAll(db);
    expect(await stored(db, chunked)).toEqual(reference.rows);
    expect(await pools(db, chunked)).toEqual(reference.pools);
  });

  it('leaves no half-written day when the job dies mid-run, and finishes it on restart', async () => {
    const communityId = await seed(db);
    // The write of the second day fails (as a process dying there would end its transaction).
    const secondDay = new Date(T0 + QUARTERS_PER_CHUNK * Q + 10 * Q);
    await db.exec(`CREATE FUNCTION fail_second_day() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'the process died'; END $$`);
    await db.exec(`CREATE TRIGGER fail_second_day BEFORE INSERT ON member_energy FOR EACH ROW
      WHEN (NEW.start = '${secondDay.toISOString()}' AND NEW.community_id = '${communityId}') EXECUTE FUNCTION fail_second_day()`);
    try {
      await expect(runAll(db)).rejects.toThrow(/the process died/);
    } finally {
      await db.exec('DROP TRIGGER fail_second_day ON member_energy; DROP FUNCTION fail_second_day()');
    }
    // The first day is written and its marks cleared; nothing of the second day is, and all its marks stay.
    const rows = (await stored(db, communityId)) as { start: Date }[];
    expect(rows).toHaveLength(QUARTERS_PER_CHUNK * NAMES.length);
    expect(rows.every((r) => r.start.getTime() < T0 + QUARTERS_PER_CHUNK * Q)).toBe(true);
    expect(await marksOf(db, communityId)).toEqual(Array.from({ length: QUARTERS - QUARTERS_PER_CHUNK }, (_, t) => T0 + (QUARTERS_PER_CHUNK + t) * Q));
    // Restarted, the job finishes the period as if nothing had happened.
    await runAll(db);
    expect(await marksOf(db, communityId)).toEqual([]);
    expect(await stored(db, communityId)).toEqual(reference.rows);
    expect(await pools(db, communityId)).toEqual(reference.pools);
  });

  it('writes nothing when a recomputation comes to the same figures, and only the changed rows when it does not', async () => {
    const communityId = await seed(db);
    await runAll(db);
    // Each row's version (xmin changes whenever a row is written, rewritten or deleted and inserted again).
    const versions = async () => new Map((await db.query<{ member_id: string; start: Date; v: string }>(
      'SELECT member_id, start, xmin::text AS v FROM member_energy WHERE community_id = $1', [communityId],
    )).map((r) => [`${r.member_id}|${r.start.getTime()}`, r.v]));
    const before = await versions();
    expect(before.size).toBe(QUARTERS * NAMES.length);
    await db.transaction((tx) => markSharingDirty(tx, communityId, Array.from({ length: QUARTERS }, (_, t) => T0 + t * Q)));
    await runAll(db);
    expect(await marksOf(db, communityId)).toEqual([]);
    expect(await versions()).toEqual(before);
    expect(await stored(db, communityId)).toEqual(reference.rows);

    // Anna imports more in one quarter hour: that quarter hour's rows are rewritten, no other.
    const changed = T0 + 20 * Q;
    const anna = (await db.query<{ id: string }>(
      `SELECT p.id FROM metering_points p JOIN members m ON m.id = p.member_id WHERE m.community_id = $1 AND m.display_name = 'anna'`, [communityId],
    ))[0]!.id;
    await storeIntervals(db, communityId, anna, { [changed]: { importWh: 900, exportWh: 0 } });
    await runAll(db);
    const after = await versions();
    const rewritten = [...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => Number(k.split('|')[1]));
    expect(rewritten.length).toBeGreaterThan(0);
    expect(new Set(rewritten)).toEqual(new Set([changed]));
    expect(after.size).toBe(before.size);
  });

  it('reads member energy as one row of columns per member, exactly the stored quarter hours of the range', async () => {
    const communityId = await seed(db);
    await runAll(db);
    const members = (await db.query<{ id: string }>('SELECT id FROM members WHERE community_id = $1', [communityId])).map((m) => m.id).sort();
    // A range cut mid-day on both ends, across Anna's gap (quarter hour 150) and a chunk boundary.
    const fromMs = T0 + 90 * Q;
    const toMs = T0 + 170 * Q;
    const columns = await memberEnergyColumns(db, communityId, fromMs, toMs);
    expect(columns.map((c) => c.memberId)).toEqual(members);
    for (const c of columns) {
      const rows = await memberQuarters(db, c.memberId, fromMs, toMs);
      expect(rows.length).toBe(80);
      expect(c.startsMs).toEqual(rows.map((r) => r.startMs));
      expect(c.consumptionWh).toEqual(rows.map((r) => r.consumptionWh));
      expect(c.selfConsumedWh).toEqual(rows.map((r) => r.selfConsumedWh));
      expect(c.fromCommunityWh).toEqual(rows.map((r) => r.fromCommunityWh));
      expect(c.fromGridWh).toEqual(rows.map((r) => r.fromGridWh));
      expect(c.productionWh).toEqual(rows.map((r) => r.productionWh));
      expect(c.toCommunityWh).toEqual(rows.map((r) => r.toCommunityWh));
      expect(c.toGridWh).toEqual(rows.map((r) => r.toGridWh));
      expect(c.allocatedFromCommunityWh).toEqual(rows.map((r) => r.allocatedFromCommunityWh));
      expect(c.communityGridOriginWh).toEqual(rows.map((r) => r.communityGridOriginWh));
      expect(c.quality).toEqual(rows.map((r) => (r.missing ? 'missing' : r.estimated ? 'estimated' : 'measured')));
      expect(c.provisional).toEqual(rows.map((r) => r.provisional));
      // JS numbers, not the strings a bigint column would arrive as.
      expect(typeof c.fromGridWh[0]).toBe('number');
    }
    // The data is not trivially zero: energy flowed to and from the community, a quarter hour is missing, splits are provisional.
    expect(columns.some((c) => c.toCommunityWh.some((wh) => wh > 0))).toBe(true);
    expect(columns.some((c) => c.allocatedFromCommunityWh.some((wh) => wh > 0))).toBe(true);
    expect(columns.some((c) => c.quality.includes('missing'))).toBe(true);
    expect(columns.some((c) => c.provisional.includes(true))).toBe(true);
    // An empty range, and another community's range, have no entry.
    expect(await memberEnergyColumns(db, communityId, toMs, toMs)).toEqual([]);
    expect(await memberEnergyColumns(db, communityId, T0 - 96 * Q, T0)).toEqual([]);
  });
});

describe('member energy columns out of order', () => {
  it('are put in order of start, every column alike (SQL does not promise the aggregate its input order)', () => {
    const column = (values: number[]): MemberEnergyColumns => ({
      memberId: 'm', startsMs: values.map((v) => v * Q), consumptionWh: values, selfConsumedWh: values.map((v) => v + 1), fromCommunityWh: values,
      fromGridWh: values, productionWh: values, toCommunityWh: values, toGridWh: values, allocatedFromCommunityWh: values, communityGridOriginWh: values,
      quality: values.map((v) => (v === 2 ? 'missing' : 'measured')), provisional: values.map((v) => v === 3),
    });
    expect(inStartOrder(column([3, 1, 2]))).toEqual(column([1, 2, 3]));
    const ordered = column([1, 2, 3]);
    expect(inStartOrder(ordered)).toBe(ordered);
  });

  it('are read from the lists the database sends as whole numbers, and anything else is refused', () => {
    expect(wholeNumbers('0,17,-5,1796360998621,2147483647')).toEqual([0, 17, -5, 1796360998621, 2147483647]);
    for (const bad of ['', '1,,2', '1.5', '1e3', '--1', '1-', 'NULL', '1,']) expect(() => wholeNumbers(bad)).toThrow(/not a list of whole numbers/);
  });
});
