import { describe, expect, it } from 'vitest';
import { withTotalRegisters } from '../../src/meters/domain/tariff-totals.js';
import { decodeFrame } from '../../src/meters/domain/registry.js';
import '../../src/meters/domain/decoders/index.js';
import type { Reading } from '../../src/kernel/quantities.js';
import { loadVector } from './vectors.js';

const r = (ts: string, quantity: Reading['quantity'], value: number): Reading => ({ ts, quantity, value, unit: 'Wh' });
const T = '2026-11-23T10:00:00.000Z';

describe('total registers from tariff registers', () => {
  it('adds the totals a meter counting per tariff leaves out, exactly, and keeps the tariff registers', () => {
    const out = withTotalRegisters([r(T, 'energy.import.t1', 4426.1), r(T, 'energy.import.t2', 2399.2), r(T, 'energy.export.t1', 0.1), r(T, 'energy.export.t2', 0.2)]);
    expect(out.filter((x) => x.quantity === 'energy.import' || x.quantity === 'energy.export').map((x) => [x.quantity, x.value]))
      .toEqual([['energy.import', 6825.3], ['energy.export', 0.3]]);
    expect(out).toHaveLength(6);
  });

  it('never replaces a total the meter sent, and groups by instant (a sub-meter has its own time)', () => {
    const later = '2026-11-23T10:05:00.000Z';
    const out = withTotalRegisters([r(T, 'energy.import', 7000), r(T, 'energy.import.t1', 1), r(T, 'energy.import.t2', 2), r(later, 'energy.import.t1', 5)]);
    expect(out.filter((x) => x.quantity === 'energy.import').map((x) => [x.ts, x.value])).toEqual([[T, 7000], [later, 5]]);
    expect(withTotalRegisters([r(T, 'pv.energy', 1)])).toEqual([r(T, 'pv.energy', 1)]);
  });

  it('every decoder gets them: the shared DSMR 5 vector decodes with energy.import = 1.8.1 + 1.8.2 and energy.export = 2.8.1 + 2.8.2', () => {
    const decoded = decodeFrame(loadVector('dsmr-v5-ndokter.txt').bytes, { format: 'auto' });
    const value = (q: string) => decoded.readings.find((x) => x.quantity === q)?.value;
    expect([value('energy.import'), value('energy.export'), value('energy.import.t1'), value('energy.import.t2')]).toEqual([6825, 2444, 4426, 2399]);
  });
});
