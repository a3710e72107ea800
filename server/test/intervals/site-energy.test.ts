import { describe, expect, it } from 'vitest';
import { computeSiteIntervals, seriesSources, type Row } from '../../src/intervals/domain/site-energy.js';
import { type DeviceRole } from '../../src/kernel/energy.js';

const Q = 900_000;
const T0 = Date.UTC(2026, 10, 20, 10);
const row = (device: string, quantity: string, minutes: number, value: number): Row => ({ device_id: device, quantity, ts: new Date(T0 + minutes * 60_000), value });
const every5 = (device: string, quantity: string, start: number, step: number, until = 45) =>
  Array.from({ length: until / 5 + 1 }, (_, i) => row(device, quantity, i * 5, start + i * step));
const site = (roles: Record<string, DeviceRole>, rows: Row[], limitWh = 10_867.5) =>
  computeSiteIntervals({ rows, exchanges: new Map(), sources: seriesSources(new Map(Object.entries(roles))), limitWh }, T0, T0 + 3 * Q);

describe('combining the devices of one site (pure)', () => {
  it('takes import from the billing meter only; a sub-meter\'s register never enters it', () => {
    const out = site({ meter: 'billing-meter', sub: 'sub-load' }, [...every5('meter', 'energy.import', 1_200_000, 50), ...every5('sub', 'energy.import', 11_800_000, 100)]);
    expect(out.rows.map((r) => r.importWh)).toEqual([150, 150, 150]);
    expect(out.findings).toEqual([]);
  });

  it('lets a later billing meter supersede an earlier one instead of alternating between them', () => {
    // Both were billing meters at the site for a while (a role corrected afterwards): the one that
    // started later counts from its first reading, the earlier one until then.
    const out = site({ old: 'billing-meter', new: 'billing-meter' }, [...every5('old', 'energy.import', 1_200_000, 50), ...every5('new', 'energy.import', 5_000, 100).map((r) => ({ ...r, ts: new Date(r.ts.getTime() + 17 * 60_000) }))].filter((r) => r.ts.getTime() <= T0 + 62 * 60_000));
    // The second quarter hour holds the change (old until 10:17, new from 10:17): 0 Wh on the old
    // register after 10:15, 260 on the new one until 10:30, estimated; the third is the new meter's.
    expect(out.rows.map((r) => [r.importWh, r.quality])).toEqual([[150, 'measured'], [260, 'estimated'], [300, 'measured']]);
  });

  it('adds PV of several inverters per device, and ignores the billing meter\'s own PV when inverters report', () => {
    const rows = [...every5('meter', 'energy.import', 0, 10), ...every5('meter', 'pv.energy', 900_000, 999), ...every5('east', 'pv.energy', 1_000, 20), ...every5('west', 'pv.energy', 70_000, 30)];
    expect(site({ meter: 'billing-meter', east: 'production', west: 'production' }, rows).rows.map((r) => r.pvWh)).toEqual([150, 150, 150]);
    // Without a production device the reader's PV is the site's.
    expect(site({ meter: 'billing-meter' }, rows).rows.map((r) => r.pvWh)).toEqual([2_997, 2_997, 2_997]);
    // One inverter silent from 10:15 on: the PV of the site is not known after that.
    const gap = rows.filter((r) => !(r.device_id === 'west' && r.ts.getTime() > T0 + 16 * 60_000));
    expect(site({ meter: 'billing-meter', east: 'production', west: 'production' }, gap).rows.map((r) => r.pvWh)).toEqual([150, null, null]);
  });

  it('quarantines a quarter hour beyond the connection: stored missing, reported with the readings behind it', () => {
    // 50 Wh every 5 minutes, and 20 kWh more between 10:20 and 10:25.
    const rows = every5('meter', 'energy.import', 0, 50).map((r) => (r.ts.getTime() >= T0 + 25 * 60_000 ? { ...r, value: r.value + 20_000 } : r));
    const out = site({ meter: 'billing-meter' }, rows);
    expect(out.rows.map((r) => [r.importWh, r.quality])).toEqual([[150, 'measured'], [null, 'missing'], [150, 'measured']]);
    expect(out.findings).toHaveLength(1);
    expect(out.findings[0]).toMatchObject({ start: T0 + Q, series: 'import', energyWh: 20_150, limitWh: 10_867.5, deviceIds: ['meter'] });
    expect(out.findings[0]!.readings.map((r) => r.ts)).toEqual([15, 20, 25, 30].map((m) => new Date(T0 + m * 60_000).toISOString()));
    // With a limit the quarter hour fits in, it is measured.
    expect(site({ meter: 'billing-meter' }, rows, 30_000).rows[1]).toMatchObject({ importWh: 20_150, quality: 'measured' });
  });

  describe('heat pumps: a series of their own, feeding no balance figure', () => {
    const heatSite = (roles: Record<string, DeviceRole>, heatPumps: string[], rows: Row[], limitWh = 10_867.5) =>
      computeSiteIntervals({ rows, exchanges: new Map(), sources: seriesSources(new Map(Object.entries(roles)), new Set(heatPumps)), limitWh }, T0, T0 + 3 * Q);
    const meter = every5('meter', 'energy.import', 1_200_000, 50);

    it('records a sub-load heat pump\'s register to the Wh, without touching import', () => {
      const out = heatSite({ meter: 'billing-meter', hp: 'sub-load' }, ['hp'], [...meter, ...every5('hp', 'energy.import', 3_456_789, 37)]);
      expect(out.rows.map((r) => [r.importWh, r.exportWh, r.pvWh, r.heatPumpWh, r.quality])).toEqual(Array(3).fill([150, null, null, 111, 'measured']));
      // The same site with the device not known as a heat pump: recorded nowhere.
      expect(site({ meter: 'billing-meter', hp: 'sub-load' }, [...meter, ...every5('hp', 'energy.import', 3_456_789, 37)]).rows.map((r) => r.heatPumpWh)).toEqual([null, null, null]);
    });

    it('integrates power where a heat pump has no register, sums several heat pumps, and leaves a silent one\'s quarter hours null, not 0', () => {
      const power = Array.from({ length: 10 }, (_, i) => row('hp', 'power.import', i * 5, 2_000));
      const out = heatSite({ meter: 'billing-meter', hp: 'sub-load', hp2: 'sub-load' }, ['hp', 'hp2'], [...meter, ...power, ...every5('hp2', 'energy.import', 0, 10)]);
      expect(out.rows.map((r) => [r.importWh, r.heatPumpWh])).toEqual(Array(3).fill([150, 530]));
      // Its readings stop at 10:15: the heat pump's later quarter hours are unknown, the balance is not.
      const silent = heatSite({ meter: 'billing-meter', hp: 'sub-load' }, ['hp'], [...meter, ...every5('hp', 'energy.import', 0, 10, 15)]);
      expect(silent.rows.map((r) => [r.importWh, r.heatPumpWh])).toEqual([[150, 30], [150, null], [150, null]]);
    });

    it('a heat pump beyond the connection voids only its own figure, with a finding', () => {
      const hp = every5('hp', 'energy.import', 0, 10).map((r) => (r.ts.getTime() >= T0 + 25 * 60_000 ? { ...r, value: r.value + 20_000 } : r));
      const out = heatSite({ meter: 'billing-meter', hp: 'sub-load' }, ['hp'], [...meter, ...hp]);
      expect(out.rows.map((r) => [r.importWh, r.heatPumpWh, r.quality])).toEqual([[150, 30, 'measured'], [150, null, 'measured'], [150, 30, 'measured']]);
      expect(out.findings).toEqual([expect.objectContaining({ start: T0 + Q, series: 'heatPump', energyWh: 20_030, deviceIds: ['hp'] })]);
    });
  });

  it('gives a site without a billing meter no grid balance', () => {
    const out = site({ inverter: 'production' }, every5('inverter', 'pv.energy', 0, 10));
    expect(out.rows.map((r) => [r.importWh, r.exportWh, r.pvWh])).toEqual([[null, null, 30], [null, null, 30], [null, null, 30]]);
  });
});
