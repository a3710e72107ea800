import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, storeKinds } from '../support/stores.js';
import type { Db } from '../../src/platform/store/db.js';
import { addPoint, Q, storeCommunity, storeIntervals, storedRows, type StoredInterval } from './support/stored.js';
import { markSharingDirty, processSharingDirty, QUARTERS_PER_CHUNK } from '../../src/sharing/service.js';
import { provisionalFigures } from '../../src/operator/index.js';
import { memberEnergyColumns, memberQuarters } from '../../src/sharing/store.js';

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

/** Every stored quarter hour of the community by member name and quarter hour (ids differ between communities). */
const stored = storedRows;

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
    // The same period split a whole day per chunk (a chunk never crosses UTC midnight) is the reference.
    const whole = await seed(db);
    await runAll(db, QUARTERS);
    reference = { rows: await stored(db, whole), pools: await pools(db, whole) };
  });
  afterAll(() => close?.());

  it('gives exactly the rows and battery pools of whole days when a day is split in parts merged into its stored rows', async () => {
    expect(QUARTERS_PER_CHUNK).toBeLessThan(QUARTERS);
    expect(reference.rows).toHaveLength(QUARTERS * NAMES.length);
    expect(reference.rows.some((r) => (r as { provisional: boolean }).provisional)).toBe(true);
    expect(reference.pools.length).toBeGreaterThan(0);
    for (const quartersPerChunk of [QUARTERS_PER_CHUNK, 20, 4]) {
      const chunked = await seed(db);
      await runAll(db, quartersPerChunk);
      expect(await stored(db, chunked)).toEqual(reference.rows);
      expect(await pools(db, chunked)).toEqual(reference.pools);
    }
  });

  it('leaves no half-written day when the job dies mid-run, and finishes it on restart', async () => {
    const communityId = await seed(db);
    // The write of the second day fails (as a process dying there would end its transaction).
    const secondDay = new Date(T0 + QUARTERS_PER_CHUNK * Q).toISOString().slice(0, 10);
    await db.exec(`CREATE FUNCTION fail_second_day() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'the process died'; END $$`);
    await db.exec(`CREATE TRIGGER fail_second_day BEFORE INSERT ON member_energy_days FOR EACH ROW
      WHEN (NEW.day = '${secondDay}' AND NEW.community_id = '${communityId}') EXECUTE FUNCTION fail_second_day()`);
    try {
      await expect(runAll(db)).rejects.toThrow(/the process died/);
    } finally {
      await db.exec('DROP TRIGGER fail_second_day ON member_energy_days; DROP FUNCTION fail_second_day()');
    }
    // The first day is written and its marks cleared; nothing of the second day is, and all its marks stay.
    const rows = await stored(db, communityId);
    expect(rows).toHaveLength(QUARTERS_PER_CHUNK * NAMES.length);
    expect(rows.every((r) => r.startMs < T0 + QUARTERS_PER_CHUNK * Q)).toBe(true);
    expect(await marksOf(db, communityId)).toEqual(Array.from({ length: QUARTERS - QUARTERS_PER_CHUNK }, (_, t) => T0 + (QUARTERS_PER_CHUNK + t) * Q));
    // Restarted, the job finishes the period as if nothing had happened.
    await runAll(db);
    expect(await marksOf(db, communityId)).toEqual([]);
    expect(await stored(db, communityId)).toEqual(reference.rows);
    expect(await pools(db, communityId)).toEqual(reference.pools);
  });

  it('writes nothing when a recomputation comes to the same figures, and only the changed days when it does not', async () => {
    const communityId = await seed(db);
    await runAll(db);
    // Each member-day row's version (xmin changes whenever a row is written, rewritten or deleted and inserted again).
    const versions = async () => new Map((await db.query<{ member_id: string; day: number; v: string }>(
      `SELECT member_id, day - DATE '1970-01-01' AS day, xmin::text AS v FROM member_energy_days WHERE community_id = $1`, [communityId],
    )).map((r) => [`${r.member_id}|${r.day * 96 * Q}`, r.v]));
    const before = await versions();
    expect(before.size).toBe(Math.ceil(QUARTERS / 96) * NAMES.length);
    await db.transaction((tx) => markSharingDirty(tx, communityId, Array.from({ length: QUARTERS }, (_, t) => T0 + t * Q)));
    await runAll(db);
    expect(await marksOf(db, communityId)).toEqual([]);
    expect(await versions()).toEqual(before);
    expect(await stored(db, communityId)).toEqual(reference.rows);

    // Anna imports more in one quarter hour: that day's rows of the members whose figures changed are rewritten, no other.
    const changed = T0 + 20 * Q;
    const anna = (await db.query<{ id: string }>(
      `SELECT p.id FROM metering_points p JOIN members m ON m.id = p.member_id WHERE m.community_id = $1 AND m.display_name = 'anna'`, [communityId],
    ))[0]!.id;
    await storeIntervals(db, communityId, anna, { [changed]: { importWh: 900, exportWh: 0 } });
    await runAll(db);
    const after = await versions();
    const rewritten = [...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => Number(k.split('|')[1]));
    expect(rewritten.length).toBeGreaterThan(0);
    expect(new Set(rewritten)).toEqual(new Set([Math.floor(changed / (96 * Q)) * 96 * Q]));
    expect(after.size).toBe(before.size);
  });

  // memberEnergyColumns (what billing's settlement reads) is tested here only, on the data with batteries.
  it('reads member energy as one row of columns per member, sorted by member, exactly the stored quarter hours of the range', async () => {
    const communityId = await seed(db);
    await runAll(db);
    const members = (await db.query<{ id: string }>('SELECT id FROM members WHERE community_id = $1', [communityId])).map((m) => m.id).sort();
    // A range over three UTC days cut mid-day on both ends, across Anna's gap (quarter hour 150) and two chunk boundaries
    // (UTC midnight), beginning 1 ms after a quarter hour's start: the first quarter hour counted is the next one.
    const fromMs = T0 + 89 * Q + 1;
    const toMs = T0 + 200 * Q;
    const columns = await memberEnergyColumns(db, communityId, fromMs, toMs);
    expect(columns.map((c) => c.memberId)).toEqual(members);
    for (const c of columns) {
      const rows = await memberQuarters(db, c.memberId, fromMs, toMs);
      expect(rows.length).toBe(110);
      expect(c.startsMs).toEqual(rows.map((r) => r.startMs));
      expect(c.startsMs[0]).toBe(T0 + 90 * Q);
      expect(c.startsMs[c.startsMs.length - 1]).toBe(T0 + 199 * Q);
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
    // An empty or reversed range, a range before the first stored quarter hour, and an unknown community have no entry.
    expect(await memberEnergyColumns(db, communityId, toMs, toMs)).toEqual([]);
    expect(await memberEnergyColumns(db, communityId, toMs, fromMs)).toEqual([]);
    expect(await memberEnergyColumns(db, communityId, T0 - 96 * Q, T0)).toEqual([]);
    expect(await memberEnergyColumns(db, '00000000-0000-0000-0000-000000000000', fromMs, toMs)).toEqual([]);
  });
});
