import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/platform/store/db.js';
import { openDb } from '../../src/platform/store/db.js';
import { loadMigrations, migrate } from '../../src/platform/store/migrate.js';
import { splitCommunity } from '../../src/sharing/domain/community-split.js';
import { emptyDay, mergeDay, NO_ROW, QUALITY_CODES, SLOTS_PER_DAY, splitRows, type EnergyDay, type SplitRows } from '../../src/sharing/domain/member-days.js';
import { chunksOfMarks, markSharingDirty } from '../../src/sharing/service.js';
import { communityQuarters, memberQuarters, membersWithEnergy, type StoredQuarter } from '../../src/sharing/index.js';
import { energyTotals } from '../../src/sharing/store.js';
import { createTestDatabase, openTestDb, storeKinds } from '../support/stores.js';
import { Q, runSharing, storeCommunity, storeIntervals, type StoredCommunity, type StoredInterval } from './support/stored.js';

/**
 * Member energy stored one row per member and UTC day (issue 22, migration 0207): the day rows
 * give back exactly the per-quarter split of the pure core, a chunk writes only the days it
 * changed, and every reader answers as the per-quarter table did (`memberEnergyColumns`, settlement's reader, in
 * streaming.test.ts, on data with batteries).
 */

const DAY = SLOTS_PER_DAY * Q;
/** 2026-10-05 00:00 UTC, a Monday; the community is in Vienna (UTC+2): its local days straddle UTC midnight. */
const T0 = Date.UTC(2026, 9, 5);
const DAYS = 3;
const NAMES = ['plant', 'anna', 'ben', 'cara'] as const;

/** Deterministic intervals: a producer by day, three consumers, a gap at Cara on the second day. */
function intervalOf(name: (typeof NAMES)[number], t: number): StoredInterval | undefined {
  const q = t % SLOTS_PER_DAY;
  if (name === 'plant') return { importWh: q >= 28 && q < 68 ? 0 : 15, exportWh: q >= 28 && q < 68 ? 200 + ((t * 37) % 400) : 0 };
  if (name === 'cara' && t === SLOTS_PER_DAY + 40) return undefined;
  const base = name === 'anna' ? 90 : name === 'ben' ? 60 : 120;
  return { importWh: base + ((t * (name.length + 5)) % 110), exportWh: 0 };
}

const seriesOf = (name: (typeof NAMES)[number]) => {
  const byStart: Record<number, StoredInterval> = {};
  for (let t = 0; t < DAYS * SLOTS_PER_DAY; t++) {
    const iv = intervalOf(name, t);
    if (iv) byStart[T0 + t * Q] = iv;
  }
  return byStart;
};

/** The pure core over the same intervals, as one split of all quarter hours (no store, no chunks): each member's rows as stored. */
function domainSplit(c: StoredCommunity): Map<string, StoredQuarter[]> {
  const starts = Array.from({ length: DAYS * SLOTS_PER_DAY }, (_, t) => T0 + t * Q);
  const nameOfPoint = new Map(NAMES.map((n) => [c.members[n]!.pointId, n]));
  const split = splitCommunity({
    rule: 'dynamic', mode: 'compute', starts, memberIds: NAMES.map((n) => c.members[n]!.memberId),
    points: NAMES.map((n) => ({ id: c.members[n]!.pointId, memberId: c.members[n]!.memberId, communityBattery: false, dataFromMs: T0 })),
    shareVersions: [],
    series: (pointId) => {
      const ivs = starts.map((_, t) => intervalOf(nameOfPoint.get(pointId)!, t));
      return { at: (t) => (ivs[t] ? t : -1), importWh: ivs.map((iv) => iv?.importWh ?? null), exportWh: ivs.map((iv) => iv?.exportWh ?? null) };
    },
    operator: () => undefined,
    poolAfter: () => undefined,
  }).members;
  return new Map(split.ids.map((id, i) => [id, starts.flatMap((startMs, t) => {
    const r = t * split.ids.length + i;
    return split.quality[r] === NO_ROW ? [] : [asStored(split, r, startMs, t)];
  })]));
}

const asStored = (rows: SplitRows, r: number, startMs: number, t: number): StoredQuarter => ({
  startMs, consumptionWh: rows.consumptionWh[r]!, selfConsumedWh: rows.selfConsumedWh[r]!, fromCommunityWh: rows.fromCommunityWh[r]!, fromGridWh: rows.fromGridWh[r]!,
  productionWh: rows.productionWh[r]!, toCommunityWh: rows.toCommunityWh[r]!, toGridWh: rows.toGridWh[r]!, allocatedFromCommunityWh: rows.allocatedFromCommunityWh[r]!,
  communityGridOriginWh: rows.communityGridOriginWh[r]!, missing: QUALITY_CODES[rows.quality[r]!] === 'missing', incomplete: false,
  estimated: QUALITY_CODES[rows.quality[r]!] === 'estimated', provisional: rows.provisional[t] === 1,
});

/** Split rows of the given ids over `quarters` quarter hours, each `[id, t, wh]` a measured row consuming wh from the grid. */
function rowsOf(ids: readonly string[], quarters: number, entries: readonly [string, number, number][]): SplitRows {
  const rows = splitRows(ids, quarters, new Uint8Array(quarters));
  for (const [id, t, wh] of entries) {
    const r = t * ids.length + ids.indexOf(id);
    rows.quality[r] = 0;
    rows.consumptionWh[r] = wh;
    rows.fromGridWh[r] = wh;
  }
  return rows;
}

describe('day rows (pure)', () => {
  const ab = (quarters: number, ...entries: [string, number, number][]) => rowsOf(['a', 'b'], quarters, entries);

  it('writes a new day, nothing when the same split is merged again, and only the member whose slot changed', () => {
    const first = mergeDay(new Map(), [0, 1], ab(2, ['a', 0, 10], ['a', 1, 11], ['b', 0, 20]));
    expect(first.write.map((d) => d.id)).toEqual(['a', 'b']);
    expect(first.write[0]!.consumptionWh.slice(0, 3)).toEqual([10, 11, null]);
    expect(first.write[0]!.quality.slice(0, 3)).toEqual([0, 0, null]);
    const stored = new Map(first.write.map((d) => [d.id, d]));
    expect(mergeDay(stored, [0, 1], ab(2, ['a', 0, 10], ['a', 1, 11], ['b', 0, 20])).write).toEqual([]);
    const changed = mergeDay(stored, [1], ab(1, ['a', 0, 12]));
    expect(changed.write.map((d) => d.id)).toEqual(['a']);
    // Slots outside the chunk keep their stored figures.
    expect(changed.write[0]!.consumptionWh.slice(0, 2)).toEqual([10, 12]);
    expect(changed.present.sort()).toEqual(['a', 'b']);
  });

  it('clears the recomputed slots of a member who takes no part there any more, and drops a day left empty', () => {
    const stored = new Map(mergeDay(new Map(), [0, 1], ab(2, ['a', 0, 10], ['a', 1, 11], ['b', 0, 20])).write.map((d) => [d.id, d]));
    const result = mergeDay(stored, [0], ab(1, ['a', 0, 10]));
    // b's only slot was recomputed without it: its day goes (not present), a's is unchanged (not written).
    expect(result.present).toEqual(['a']);
    expect(result.write).toEqual([]);
  });

  it('does not change the stored day it merges into', () => {
    const stored: EnergyDay = emptyDay('a');
    stored.consumptionWh[5] = 1;
    stored.quality[5] = 0;
    mergeDay(new Map([['a', stored]]), [5], ab(1));
    expect(stored.consumptionWh[5]).toBe(1);
  });

  it('keeps both balances in every slot of every written day, whatever the inputs (what the per-quarter CHECKs enforced)', () => {
    const point = fc.record({
      importWh: fc.integer({ min: 0, max: 5_000 }), exportWh: fc.integer({ min: 0, max: 5_000 }),
      pvWh: fc.option(fc.integer({ min: 0, max: 5_000 })), charge: fc.option(fc.integer({ min: 0, max: 500 })),
      discharge: fc.option(fc.integer({ min: 0, max: 500 })), missing: fc.boolean(),
    });
    fc.assert(fc.property(
      fc.array(fc.array(point, { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 5 }),
      fc.constantFrom('dynamic', 'static-redistributed', 'it-cer'), fc.integer({ min: 0, max: 91 }),
      (members, rule, firstSlot) => {
        const starts = [0, 1, 2, 3].map((k) => T0 + (firstSlot + k) * Q);
        const ids = members.map((_, i) => `m${i}`);
        const output = splitCommunity({
          rule, mode: 'compute', starts, memberIds: ids,
          points: ids.map((id) => ({ id: `p-${id}`, memberId: id, communityBattery: false, dataFromMs: T0 })),
          shareVersions: [{ validFromMs: 0, shares: new Map(ids.map((id) => [id, (1 / ids.length).toFixed(9).slice(0, 11)])) }],
          series: (pointId) => {
            const member = Number(pointId.slice(3));
            const quarters = members[member]!;
            return {
              at: (t) => (quarters[t]!.missing && member === 0 ? -1 : t),
              importWh: quarters.map((p) => p.importWh), exportWh: quarters.map((p) => p.exportWh),
              pvWh: quarters.map((p) => (p.pvWh === null ? null : p.pvWh + p.exportWh)),
              batteryChargeWh: quarters.map((p) => p.charge), batteryDischargeWh: quarters.map((p) => p.discharge),
            };
          },
          operator: () => undefined,
          poolAfter: () => undefined,
        });
        const { write } = mergeDay(new Map(), starts.map((ms) => (ms - T0) / Q), output.members);
        for (const day of write) {
          for (let s = 0; s < SLOTS_PER_DAY; s++) {
            if (day.quality[s] === null) continue;
            expect(day.consumptionWh[s]).toBe(day.selfConsumedWh[s]! + day.fromCommunityWh[s]! + day.fromGridWh[s]!);
            expect(day.productionWh[s]).toBe(day.selfConsumedWh[s]! + day.toCommunityWh[s]! + day.toGridWh[s]!);
            for (const key of ['consumptionWh', 'selfConsumedWh', 'fromCommunityWh', 'fromGridWh', 'productionWh', 'toCommunityWh', 'toGridWh'] as const) {
              expect(Number.isInteger(day[key][s]) && day[key][s]! >= 0 && day[key][s]! <= 2 ** 31 - 1).toBe(true);
            }
          }
        }
      },
    ), { numRuns: 200 });
  });

  it('cuts a pass\'s marks into chunks that never cross UTC midnight and hold at most the chunk size', () => {
    const marks = [T0 - 2 * Q, T0 - Q, T0, T0 + Q, T0 + 2 * Q, T0 + DAY + 5 * Q].map((startMs, version) => ({ startMs, version }));
    expect(chunksOfMarks(marks, 2).map((c) => c.map((m) => (m.startMs - T0) / Q))).toEqual([[-2, -1], [0, 1], [2], [101]]);
    expect(chunksOfMarks(marks, 96).map((c) => c.length)).toEqual([2, 3, 1]);
    expect(chunksOfMarks([], 96)).toEqual([]);
  });
});

describe.each(storeKinds)('member energy as day rows on %s', (kind) => {
  let db: Db;
  let close: () => Promise<void>;
  let c: StoredCommunity;
  beforeAll(async () => {
    ({ db, close } = await openTestDb(kind));
    c = await storeCommunity(db, NAMES);
    for (const name of NAMES) await storeIntervals(db, c.id, c.members[name]!.pointId, seriesOf(name));
    await runSharing(db);
  }, 120_000);
  afterAll(() => close?.());

  const versions = async () => new Map((await db.query<{ member_id: string; day: number; v: string }>(
    `SELECT member_id, day - DATE '1970-01-01' AS day, xmin::text AS v FROM member_energy_days WHERE community_id = $1`, [c.id],
  )).map((r) => [`${r.member_id}|${r.day}`, r.v]));

  it('stores one row per member and day that gives back exactly the pure core\'s split of every quarter hour', async () => {
    expect((await versions()).size).toBe(NAMES.length * DAYS);
    const expected = domainSplit(c);
    for (const name of NAMES) {
      const memberId = c.members[name]!.memberId;
      expect(await memberQuarters(db, memberId, T0, T0 + DAYS * DAY)).toEqual(expected.get(memberId));
    }
    // The gap: Cara missing, the others provisional, in that quarter hour only.
    const gap = T0 + (SLOTS_PER_DAY + 40) * Q;
    expect((await memberQuarters(db, c.members.cara!.memberId, gap, gap + Q))[0]).toMatchObject({ missing: true, consumptionWh: 0 });
    expect((await memberQuarters(db, c.members.anna!.memberId, gap - Q, gap + 2 * Q)).map((q) => q.provisional)).toEqual([false, true, false]);
  });

  it('writes nothing when a pass recomputes the same figures, and a late interval rewrites only its day', async () => {
    const before = await versions();
    await db.transaction((tx) => markSharingDirty(tx, c.id, Array.from({ length: DAYS * SLOTS_PER_DAY }, (_, t) => T0 + t * Q)));
    await runSharing(db);
    expect(await versions()).toEqual(before);

    // Cara's missing quarter hour arrives late.
    const gap = T0 + (SLOTS_PER_DAY + 40) * Q;
    await storeIntervals(db, c.id, c.members.cara!.pointId, { [gap]: { importWh: 150, exportWh: 0 } });
    await runSharing(db);
    const after = await versions();
    const rewritten = [...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k);
    const secondDay = (T0 + DAY) / DAY;
    expect(rewritten.length).toBeGreaterThan(0);
    expect(rewritten.every((k) => k.endsWith(`|${secondDay}`))).toBe(true);
    expect((await memberQuarters(db, c.members.cara!.memberId, gap, gap + Q))[0]).toMatchObject({ missing: false, consumptionWh: 150, provisional: false });
  });

  it('sums the community\'s quarter hours and each member\'s totals in SQL as the per-quarter rows summed', async () => {
    // A range that begins and ends inside a UTC day (Vienna's local day).
    const fromMs = T0 + 88 * Q;
    const toMs = T0 + DAY + 88 * Q;
    const perMember = new Map<string, StoredQuarter[]>();
    for (const name of NAMES) perMember.set(c.members[name]!.memberId, await memberQuarters(db, c.members[name]!.memberId, fromMs, toMs));
    const sum = (quarters: StoredQuarter[], key: 'consumptionWh' | 'fromCommunityWh' | 'toGridWh' | 'communityGridOriginWh') => quarters.reduce((s, q) => s + q[key], 0);

    const community = await communityQuarters(db, c.id, fromMs, toMs);
    expect(community).toHaveLength(SLOTS_PER_DAY);
    expect(community[0]!.startMs).toBe(fromMs);
    const at = (ms: number) => [...perMember.values()].map((qs) => qs.find((q) => q.startMs === ms)!);
    for (const quarter of community) {
      expect(quarter.consumptionWh).toBe(sum(at(quarter.startMs), 'consumptionWh'));
      expect(quarter.fromCommunityWh).toBe(sum(at(quarter.startMs), 'fromCommunityWh'));
      expect(quarter.incomplete).toBe(at(quarter.startMs).some((q) => q.missing));
      expect(quarter.missing).toBe(false);
    }
    const totals = await energyTotals(db, 'members', c.id, fromMs, toMs);
    for (const [memberId, quarters] of perMember) {
      expect(totals.get(memberId)).toMatchObject({ consumptionWh: sum(quarters, 'consumptionWh'), toGridWh: sum(quarters, 'toGridWh') });
    }
    expect(await membersWithEnergy(db, c.id, fromMs, toMs)).toEqual(new Set(perMember.keys()));
    // Before the first stored quarter hour, after the last, and an empty or reversed range: nothing.
    expect(await membersWithEnergy(db, c.id, T0 - DAY, T0)).toEqual(new Set());
    expect(await communityQuarters(db, c.id, T0 + DAYS * DAY, T0 + (DAYS + 1) * DAY)).toEqual([]);
    expect(await energyTotals(db, 'members', c.id, toMs, fromMs)).toEqual(new Map());
  });

  it('refuses a battery day that is not 96 slots, naming the batteries\' own check', async () => {
    const short = `'{${Array(95).fill(0).join(',')}}'`;
    const columns = ['consumption_wh', 'self_consumed_wh', 'from_community_wh', 'from_grid_wh', 'production_wh', 'to_community_wh', 'to_grid_wh',
      'allocated_from_community_wh', 'community_grid_origin_wh', 'quality'];
    await expect(db.query(
      `INSERT INTO battery_energy_days (community_id, day, metering_point_id, ${columns.join(', ')}, provisional)
       VALUES ($1, DATE '2026-01-01', gen_random_uuid(), ${columns.map(() => short).join(', ')}, '{${Array(95).fill('f').join(',')}}')`,
      [c.id],
    )).rejects.toThrow(/battery_energy_days_check/);
  });
});

describe.each(storeKinds)('migration 0207 on %s', (kind) => {
  it('moves the per-quarter rows into day rows that read back the same, and drops the old table', async () => {
    const database = await createTestDatabase(kind);
    const db = await openDb(database.config);
    try {
      const all = loadMigrations();
      await migrate(db, all.filter((m) => m.version < '0207'));
      const community = await db.query<{ id: string }>(`INSERT INTO communities (name, time_zone, currency) VALUES ('Old rows', 'Europe/Vienna', 'EUR') RETURNING id`);
      const communityId = community[0]!.id;
      const memberId = '11111111-1111-4111-8111-111111111111';
      // Two quarter hours either side of UTC midnight, one missing and provisional.
      const rows: [number, number, number, string, boolean][] = [
        [T0 - Q, 100, 40, 'measured', false], [T0, 80, 0, 'missing', true], [T0 + 5 * Q, 60, 10, 'estimated', false],
      ];
      for (const [start, consumption, fromCommunity, quality, provisional] of rows) {
        await db.query(
          `INSERT INTO member_energy (member_id, start, community_id, import_wh, export_wh, consumption_wh, self_consumed_wh, from_community_wh,
             from_grid_wh, production_wh, to_community_wh, to_grid_wh, allocated_from_community_wh, community_grid_origin_wh, quality, provisional)
           VALUES ($1, $2, $3, $4::int8, 0, $4, 0, $5::int8, $4::int8 - $5::int8, 7, 3, 4, $5, 1, $6, $7)`,
          [memberId, new Date(start), communityId, consumption, fromCommunity, quality, provisional]);
      }
      expect(await migrate(db, all.filter((m) => m.version <= '0207'))).toEqual(['sharing/0207_member_energy_days.sql']);
      expect(await memberQuarters(db, memberId, T0 - DAY, T0 + DAY)).toEqual(rows.map(([startMs, consumption, fromCommunity, quality, provisional]) => ({
        startMs, consumptionWh: consumption, selfConsumedWh: 0, fromCommunityWh: fromCommunity, fromGridWh: consumption - fromCommunity, productionWh: 7,
        toCommunityWh: 3, toGridWh: 4, allocatedFromCommunityWh: fromCommunity, communityGridOriginWh: 1,
        missing: quality === 'missing', incomplete: false, estimated: quality === 'estimated', provisional,
      })));
      expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM member_energy_days WHERE community_id = $1`, [communityId]))[0]!.n).toBe(2);
      expect(await db.query(`SELECT 1 FROM pg_class WHERE relname = 'member_energy'`)).toEqual([]);
    } finally {
      await db.close();
      await database.drop();
    }
  }, 180_000);
});
