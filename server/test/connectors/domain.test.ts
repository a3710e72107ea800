import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cutBatch, globToRegExp, parseNumberText, planReads, recordMapper, scaleByPowerOfTen, shortestFloat32, timestampParser, type RecordMapping,
} from '../../src/connectors/domain/index.js';
import { decodeRegisters, encodeRegisters, REGISTER_TYPES, type RegisterEncoding } from '../../src/connectors/domain/registers/index.js';
import { decodeModel, decodePoint, modelDef, planControl, SUNSPEC_MODELS, type PointType } from '../../src/connectors/domain/sunspec/index.js';
import { secretPaths, withoutSecrets } from '../../src/connectors/index.js';
import { getKind } from '../../src/connectors/registry.js';

describe('SunSpec models', () => {
  it('have the lengths of the SunSpec specification', () => {
    const lengths = Object.fromEntries([...SUNSPEC_MODELS.values()].map((m) => [m.id, m.length]));
    expect(lengths).toEqual({
      1: 66, 101: 50, 102: 50, 103: 50, 111: 60, 112: 60, 113: 60, 120: 26, 121: 30, 123: 24, 124: 24,
      201: 105, 202: 105, 203: 105, 204: 105, 704: 65, 802: 62,
    });
    expect(modelDef(103)!.points.get('WH')).toMatchObject({ offset: 22, type: 'acc32', sf: 'WH_SF' });
    expect(modelDef(203)!.points.get('TotWhImp')).toMatchObject({ offset: 44 });
    expect(modelDef(704)!.points.get('WMaxLimPct')).toMatchObject({ offset: 13 });
    expect(modelDef(802)!.points.get('SoC')).toMatchObject({ offset: 9 });
  });

  it('decode "not implemented" of every type as absent, and everything else as a value', () => {
    const cases: [PointType, number[], number | string | undefined][] = [
      ['int16', [0x8000], undefined], ['int16', [0xffff], -1], ['sunssf', [0x8000], undefined], ['sunssf', [0xfffe], -2],
      ['uint16', [0xffff], undefined], ['uint16', [0x8000], 32768], ['enum16', [0xffff], undefined], ['bitfield16', [0xffff], undefined],
      ['acc16', [0], undefined], ['acc16', [7], 7],
      ['int32', [0x8000, 0], undefined], ['int32', [0xffff, 0xfffe], -2], ['uint32', [0xffff, 0xffff], undefined], ['acc32', [0, 0], undefined],
      ['acc32', [1, 2], 65538], ['float32', [0x7fc0, 0], undefined], ['float32', [0x4366, 0x199a], 230.1], ['float32', [0x4366, 0x1999], 230.09999],
      ['int64', [0x8000, 0, 0, 0], undefined], ['acc64', [0, 0, 0, 5], 5], ['uint64', [0xffff, 0xffff, 0xffff, 0xffff], undefined],
    ];
    for (const [type, regs, expected] of cases) {
      expect([type, regs, decodePoint(regs, { offset: 0, type, size: regs.length })]).toEqual([type, regs, expected]);
    }
    expect(decodePoint([0x4775, 0x6e00, 0, 0], { offset: 0, type: 'string', size: 4 })).toBe('Gun');
    expect(decodePoint([0, 0, 0, 0], { offset: 0, type: 'string', size: 4 })).toBeUndefined();
  });

  it('apply scale factors exactly and leave a point out when its scale factor is absent or out of range', () => {
    const def = modelDef(103)!;
    const body = new Array<number>(def.length).fill(0xffff);
    const at = (name: string) => def.points.get(name)!.offset;
    body[at('W')] = 12345;
    body[at('W_SF')] = 0xfffd; // -3
    body[at('PhVphA')] = 2301;
    body[at('V_SF')] = 11; // out of range
    const decoded = decodeModel(def, body);
    expect(decoded.value('W')).toBe(12.345);
    expect(decoded.value('PhVphA')).toBeUndefined();
    expect(decoded.raw('PhVphA')).toBe(2301);
    expect(scaleByPowerOfTen(3, -1)).toBe(0.3);
    expect(scaleByPowerOfTen(123456789, -4)).toBe(12345.6789);
  });

  it('refuses a power limit the device\'s scale factor cannot carry', () => {
    const def = modelDef(123)!;
    const body = new Array<number>(def.length).fill(0);
    body[def.points.get('WMaxLimPct_SF')!.offset] = 3;
    const current = decodeModel(def, body);
    expect(() => planControl({ type: 'power-limit', percent: 50 }, { id: 123, address: 100, length: 24 }, current)).not.toThrow();
    body[def.points.get('WMaxLimPct_SF')!.offset] = 0xfffc; // -4: 100 % would be 1,000,000
    expect(() => planControl({ type: 'power-limit', percent: 100 }, { id: 123, address: 100, length: 24 }, decodeModel(def, body))).toThrow(/does not fit/);
    expect(() => planControl({ type: 'power-limit', percent: 50 }, { id: 123, address: 100, length: 5 }, current)).toThrow(/has no WMaxLim_Ena/);
  });
});

describe('register values', () => {
  it('round-trip every type in every word and byte order', () => {
    fc.assert(fc.property(
      fc.constantFrom(...REGISTER_TYPES), fc.constantFrom('big', 'little'), fc.constantFrom('big', 'little'), fc.double({ noNaN: true, noDefaultInfinity: true }),
      (type, wordOrder, byteOrder, x) => {
        const encoding: RegisterEncoding = { type, wordOrder: wordOrder as 'big' | 'little', byteOrder: byteOrder as 'big' | 'little' };
        const bits = Number(type.replace(/\D/g, ''));
        // Integers have no negative zero: + 0 turns -0 into 0.
        const value = type.startsWith('float') ? (type === 'float32' ? shortestFloat32(x) : x)
          : type.startsWith('u') ? (Math.abs(Math.trunc(x)) % 2 ** Math.min(bits, 53)) + 0
            : (Math.trunc(x) % 2 ** Math.min(bits - 1, 53)) + 0;
        if (type === 'float32' && !Number.isFinite(Math.fround(value))) return;
        expect(decodeRegisters(encodeRegisters(value, encoding), 0, encoding)).toBe(value);
      },
    ));
    expect(encodeRegisters(1.5, { type: 'float32', wordOrder: 'little', byteOrder: 'big' })).toEqual([0x0000, 0x3fc0]);
    expect(encodeRegisters(0x1234, { type: 'uint16', wordOrder: 'big', byteOrder: 'little' })).toEqual([0x3412]);
  });

  it('plan reads of at most 125 registers, bridging only the gaps allowed', () => {
    expect(planReads([{ address: 10, count: 2 }, { address: 0, count: 2 }, { address: 4, count: 2 }])).toEqual([{ address: 0, count: 2 }, { address: 4, count: 2 }, { address: 10, count: 2 }]);
    expect(planReads([{ address: 10, count: 2 }, { address: 0, count: 2 }, { address: 4, count: 2 }], 4)).toEqual([{ address: 0, count: 12 }]);
    expect(planReads([{ address: 0, count: 2 }, { address: 124, count: 2 }], 200)).toEqual([{ address: 0, count: 2 }, { address: 124, count: 2 }]);
    expect(planReads([{ address: 0, count: 300 }])).toEqual([{ address: 0, count: 125 }, { address: 125, count: 125 }, { address: 250, count: 50 }]);
  });
});

describe('timestamps and numbers', () => {
  it('convert wall-clock time DST-safely', () => {
    const parse = timestampParser('YYYY-MM-DD HH:mm', 'Europe/Vienna');
    expect(parse.parse('2026-03-29 01:59')).toEqual({ ms: Date.UTC(2026, 2, 29, 0, 59) });
    expect(parse.parse('2026-03-29 02:00')).toEqual({ error: 'local time 2026-03-29 02:00 does not exist in Europe/Vienna (the clocks skip it): is the time zone right?' });
    expect(parse.parse('2026-03-29 03:00')).toEqual({ ms: Date.UTC(2026, 2, 29, 1, 0) });
    expect(parse.parse('2026-10-25 02:30')).toEqual({ ms: Date.UTC(2026, 9, 25, 0, 30) });
    expect(parse.parse('2026-10-25 02:30')).toEqual({ ms: Date.UTC(2026, 9, 25, 1, 30) });
    expect(parse.parse('2026-10-25 02:30')).toMatchObject({ error: expect.stringMatching(/comes a third time/) });
    expect(parse.parse('2026-02-30 10:00')).toMatchObject({ error: expect.stringMatching(/no such date/) });
    const iso = timestampParser('iso', 'America/New_York');
    expect(iso.parse('2026-07-01T12:00:00-04:00')).toEqual({ ms: Date.UTC(2026, 6, 1, 16) });
    expect(iso.parse('2026-07-01 12:00')).toEqual({ ms: Date.UTC(2026, 6, 1, 16) });
    expect(iso.parse('2026-07-01T12:00:00.5Z')).toEqual({ ms: Date.UTC(2026, 6, 1, 12, 0, 0, 500) });
    expect(timestampParser('unix-ms', 'UTC').parse('1780300800000')).toEqual({ ms: 1780300800000 });
    expect(() => timestampParser('HH:mm', 'UTC')).toThrow(/has no YYYY/);
  });

  it('read numbers as written, shifting units by the text', () => {
    expect(parseNumberText('1.234,5', ',', 3)).toBe(1_234_500);
    expect(parseNumberText('0,001', ',', 3)).toBe(1);
    expect(parseNumberText('12345.67', '.', 3)).toBe(12_345_670);
    expect(parseNumberText('1e3', '.', -3)).toBe(1);
    expect(parseNumberText('1,234.5', '.', 0)).toBeUndefined();
    expect(parseNumberText('', '.', 0)).toBeUndefined();
    expect(parseNumberText('NaN', '.', 0)).toBeUndefined();
    expect(parseNumberText('1e400', '.', 0)).toBeUndefined();
    fc.assert(fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 6 }), (n, places) => {
      const text = (n / 10 ** places).toFixed(places);
      expect(parseNumberText(text, '.', places)).toBe(Math.round(Number(text) * 10 ** places));
    }));
  });

  it('map a record value by value: a blank is absent, a bad value costs only itself', () => {
    const mapping: RecordMapping = { timestampField: 't', timestampFormat: 'iso', timeZone: 'UTC', values: [
      { field: 'a', target: 'x', quantity: 'power.import', unit: 'kW' }, { field: 'b', target: 'x', quantity: 'voltage.l1', unit: 'V' }, { field: 'c', target: 'x', quantity: 'frequency', unit: 'Hz' },
    ] };
    const row: Record<string, unknown> = { t: '2026-01-01T00:00:00Z', a: '1.5', b: 'oops', c: '' };
    expect(recordMapper(mapping)((f) => row[f], 'row 1')).toEqual({
      readings: [{ target: 'x', ts: '2026-01-01T00:00:00Z', quantity: 'power.import', value: 1500, unit: 'W' }],
      problems: [{ where: 'row 1', message: 'b: "oops" is not a number' }],
      tsMs: Date.UTC(2026, 0, 1),
    });
  });
});

describe('watermark batches', () => {
  it('drain every row exactly once, whatever the batch size and however many rows share a value', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 60 }), fc.integer({ min: 1, max: 8 }), (values, limit) => {
      const rows = values.map((v, id) => ({ id, wm: String(v).padStart(3, '0') })).sort((a, b) => (a.wm < b.wm ? -1 : a.wm > b.wm ? 1 : 0));
      const taken: number[] = [];
      let after: string | undefined;
      for (let runs = 0; runs < 200; runs++) {
        // What the database answers: rows after the watermark, in order, limit + 1 of them.
        const batch = rows.filter((r) => after === undefined || r.wm > after).slice(0, limit + 1);
        const cut = cutBatch(batch, limit, (r) => r.wm);
        const chosen = cut.kind === 'tie' ? rows.filter((r) => r.wm === cut.value) : cut.rows;
        taken.push(...chosen.map((r) => r.id));
        after = cut.kind === 'tie' ? cut.value : cut.watermark ?? after;
        if (cut.kind === 'rows' && !cut.more) break;
      }
      expect(taken.sort((a, b) => a - b)).toEqual(rows.map((r) => r.id).sort((a, b) => a - b));
    }));
  });
});

describe('files and secrets', () => {
  it('match file names by pattern', () => {
    expect(globToRegExp('export_*.csv').test('export_2026-01.csv')).toBe(true);
    expect(globToRegExp('export_*.csv').test('export_2026-01.csv.read')).toBe(false);
    expect(globToRegExp('day-??.txt').test('day-07.txt')).toBe(true);
    expect(globToRegExp('a.csv').test('abcsv')).toBe(false);
  });

  it('find every secret of a kind\'s configuration and leave them out', () => {
    expect(secretPaths(getKind('http-json')!.configSchema).sort()).toEqual(['/auth/clientSecret', '/auth/password', '/auth/token', '/auth/value']);
    expect(secretPaths(getKind('csv-files')!.configSchema).sort()).toEqual(['/source/passphrase', '/source/password', '/source/privateKey']);
    expect(secretPaths(getKind('sql')!.configSchema)).toEqual(['/password']);
    const config = { source: { type: 'ftp', host: 'h', user: 'u', password: 'p' }, mapping: {} };
    expect(withoutSecrets(getKind('csv-files')!.configSchema, config)).toEqual({ source: { type: 'ftp', host: 'h', user: 'u' }, mapping: {} });
    expect(config.source.password).toBe('p');
  });
});
