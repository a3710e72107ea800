import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  SourcePool, splitByOrigin, totalOf, trackBehindTheMeter, trackCommunityBattery,
  type BySource, type MeterInterval,
} from '../../src/sharing/domain/battery.js';

const add = (a: BySource, b: BySource): BySource => ({ ownPv: a.ownPv + b.ownPv, community: a.community + b.community, grid: a.grid + b.grid });
const ZERO: BySource = { ownPv: 0, community: 0, grid: 0 };

describe('source pool (proportional mixing)', () => {
  it('discharges in proportion to what is stored, exactly', () => {
    const pool = new SourcePool();
    pool.charge({ ownPv: 3000, community: 1000, grid: 2000 });
    // 600 of 6000 stored: 1/10 of each stock.
    expect(pool.take(600)).toEqual({ ownPv: 300, community: 100, grid: 200 });
    expect(pool.soc).toEqual({ ownPv: 2700, community: 900, grid: 1800 });
    // Beyond the stock the origin is unknown and counted as grid.
    expect(pool.take(6000)).toEqual({ ownPv: 2700, community: 900, grid: 2400 });
    expect(pool.soc).toEqual(ZERO);
  });

  it('never lets more of a source out than went in (grid never becomes own solar)', () => {
    const step = fc.record({
      charge: fc.record({ ownPv: fc.integer({ min: 0, max: 3000 }), community: fc.integer({ min: 0, max: 3000 }), grid: fc.integer({ min: 0, max: 3000 }) }),
      discharge: fc.integer({ min: 0, max: 6000 }),
      loss: fc.integer({ min: 0, max: 50 }),
    });
    fc.assert(fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
      const pool = new SourcePool();
      let charged = ZERO;
      let out = ZERO;
      for (const s of steps) {
        pool.charge(s.charge);
        charged = add(charged, s.charge);
        const lost = pool.take(Math.min(s.loss, totalOf(pool.soc)));
        const want = Math.min(s.discharge, totalOf(pool.soc));
        const taken = pool.take(want);
        expect(totalOf(taken)).toBe(want);
        out = add(add(out, lost), taken);
        const soc = pool.soc;
        for (const k of ['ownPv', 'community', 'grid'] as const) {
          expect(soc[k]).toBeGreaterThanOrEqual(0);
          expect(out[k]).toBeLessThanOrEqual(charged[k]);
          expect(out[k] + soc[k]).toBe(charged[k]);
        }
      }
    }), { numRuns: 300 });
  });
});

describe('behind-the-meter battery and PV', () => {
  it('a battery charged from the grid at night does not deliver own solar in the morning', () => {
    const rows: MeterInterval[] = [
      // Night: 2000 Wh imported, all into the battery (no load), 500 of it community energy.
      { importWh: 2000, exportWh: 0, pvWh: 0, batteryChargeWh: 2000, batteryDischargeWh: 0, fromCommunityWh: 500 },
      // Noon: PV 3000, load 1000, battery charged 1500, 500 exported.
      { importWh: 0, exportWh: 500, pvWh: 3000, batteryChargeWh: 1500, batteryDischargeWh: 0, fromCommunityWh: 0 },
      // Evening: battery delivers 1750 to a load of 1750; nothing imported.
      { importWh: 0, exportWh: 0, pvWh: 0, batteryChargeWh: 0, batteryDischargeWh: 1750, fromCommunityWh: 0 },
    ];
    const [night, noon, evening] = trackBehindTheMeter(rows);
    expect(night).toMatchObject({ consumptionWh: 0, charged: { ownPv: 0, community: 500, grid: 1500 } });
    expect(noon).toMatchObject({ consumptionWh: 1000, ownPvWh: 1000, charged: { ownPv: 1500, community: 0, grid: 0 } });
    // Stored: 1500 own PV, 500 community, 1500 grid (3500). 1750 is half of it.
    expect(evening).toMatchObject({
      consumptionWh: 1750, ownPvWh: 750, fromCommunityWh: 250, fromGridWh: 750,
      discharged: { ownPv: 750, community: 250, grid: 750 },
      soc: { ownPv: 750, community: 250, grid: 750 },
    });
  });

  it('consumption = own PV + community + grid in every interval, and sources are conserved', () => {
    const raw = fc.record({
      load: fc.integer({ min: 0, max: 3000 }),
      pv: fc.integer({ min: 0, max: 4000 }),
      charge: fc.integer({ min: 0, max: 2000 }),
      discharge: fc.integer({ min: 0, max: 2000 }),
      extraImport: fc.integer({ min: 0, max: 300 }),
      communityShare: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    // Meter readings consistent with the energy balance and with a battery that never
    // delivers more than it holds; extraImport adds simultaneous import and export (timing
    // inside the interval).
    const series = fc.array(raw, { minLength: 1, maxLength: 40 }).map((list) => {
      let soc = 0;
      return list.map(({ load, pv, charge, discharge, extraImport, communityShare }): MeterInterval => {
        const d = Math.min(discharge, soc + charge);
        soc += charge - d;
        const net = load + charge - pv - d;
        const importWh = Math.max(0, net) + extraImport;
        const exportWh = Math.max(0, -net) + extraImport;
        return { importWh, exportWh, pvWh: pv, batteryChargeWh: charge, batteryDischargeWh: d, fromCommunityWh: Math.floor(importWh * communityShare) };
      });
    });
    fc.assert(fc.property(series, (rows) => {
      const out = trackBehindTheMeter(rows);
      let charged = ZERO;
      let discharged = ZERO;
      out.forEach((o, t) => {
        const r = rows[t]!;
        expect(o.ownPvWh + o.fromCommunityWh + o.fromGridWh).toBe(o.consumptionWh);
        expect(o.consumptionWh).toBe(r.importWh + r.pvWh + r.batteryDischargeWh - r.exportWh - r.batteryChargeWh);
        for (const v of [o.ownPvWh, o.fromCommunityWh, o.fromGridWh]) expect(v).toBeGreaterThanOrEqual(0);
        expect(o.ownPvWh).toBeLessThanOrEqual(r.pvWh + o.discharged.ownPv);
        charged = add(charged, o.charged);
        discharged = add(discharged, o.discharged);
        for (const k of ['ownPv', 'community', 'grid'] as const) expect(charged[k] - discharged[k]).toBe(o.soc[k]);
      });
    }), { numRuns: 300 });
  });

  it('refuses impossible meter data', () => {
    expect(() => trackBehindTheMeter([{ importWh: 0, exportWh: 100, pvWh: 50, batteryChargeWh: 0, batteryDischargeWh: 0, fromCommunityWh: 0 }])).toThrow(/exceed import, PV and discharge/);
    expect(() => trackBehindTheMeter([{ importWh: 10, exportWh: 0, pvWh: 0, batteryChargeWh: 0, batteryDischargeWh: 0, fromCommunityWh: 20 }])).toThrow(/community energy exceeds the import/);
    expect(() => trackBehindTheMeter([{ importWh: 1.5, exportWh: 0, pvWh: 0, batteryChargeWh: 0, batteryDischargeWh: 0, fromCommunityWh: 0 }])).toThrow(/whole number/);
  });
});

describe('community battery', () => {
  it('tags what it releases by what charged it, and members see the grid part as grid-origin', () => {
    const released = trackCommunityBattery([
      // Charged 4000: 3000 community surplus, 1000 from the grid.
      { importWh: 4000, fromCommunityWh: 3000, exportWh: 0 },
      // Releases 2000: 1500 community-origin, 500 grid-origin.
      { importWh: 0, fromCommunityWh: 0, exportWh: 2000 },
    ]);
    expect(released[1]).toEqual({ ownPv: 0, community: 1500, grid: 500 });
    // In that interval the community shared 2000 (all from the battery) with members 1200/800:
    // the 500 grid-origin Wh split 300/200.
    const split = splitByOrigin([1200, 800], 2000, 500);
    expect(Array.from(split.gridOriginWh)).toEqual([300, 200]);
    expect(Array.from(split.renewableWh)).toEqual([900, 600]);
  });
});
