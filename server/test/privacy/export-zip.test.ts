/**
 * The member's export ZIP (GDPR Art. 15/20): written from async iterators, unzipped and read
 * back — every kind as JSON and CSV, a README in the member's language, large kinds in parts,
 * progress, data on disk before the sources are exhausted, and bad records refused without
 * leaving a file behind.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { crc32 } from 'node:zlib';
import { strFromU8, unzipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatUtcInstant } from '../../src/kernel/time.js';
import { EXPORT_KIND_SPECS, EXPORT_KINDS, type ExportKind, type ExportRecord } from '../../src/privacy/domain/index.js';
import { writeMemberExport, type ExportProgress, type ExportSources } from '../../src/privacy/export-zip.js';
import { T0 } from './support.js';

const README = { language: 'en', timeZone: 'Europe/Vienna', community: 'Sunny Street', member: 'Anna Maier', generatedAt: Date.UTC(2026, 5, 15, 8) } as const;

async function* slowly<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) {
    yield item;
    // A real source awaits the database now and then.
    await Promise.resolve();
  }
}

const readings = (count: number): ExportRecord[] => Array.from({ length: count }, (_, i) => ({
  device_id: 'reader-0001', metering_point_id: 'mp-1', quantity: 'energy_import_wh', ts: formatUtcInstant(T0 + i * 10_000), value: 1_234_567 + i * 3, received_at: formatUtcInstant(T0 + i * 10_000 + 800),
}));

function sources(overrides: Partial<ExportSources> = {}): ExportSources {
  const empty = Object.fromEntries(EXPORT_KINDS.map((k) => [k, []])) as unknown as Record<ExportKind, ExportRecord[]>;
  return {
    ...empty,
    account: [{ user_id: 'u-1', email: 'anna@example.at', display_name: '=HYPERLINK("http://evil.example","click")', language: 'de', is_admin: false, created_at: '2025-01-10T09:00:00Z' }],
    memberships: [{ member_id: 'm-1', community_id: 'c-1', community_name: 'Sunny Street', role: 'member', state: 'active', display_name: 'Anna', requested_at: '2025-01-10T09:05:00Z', decided_at: null }],
    sites: slowly([{ metering_point_id: 'mp-1', community_id: 'c-1', name: 'Home', address: 'Hauptstraße 12, 1010 Wien', grid_connection_id: 'AT0010000000000000001000000000001', role: 'prosumer', pv_capacity_w: 6200, battery_capacity_wh: null }]),
    // A device the member had: moved on since (where it is now is not theirs to see), last seen before the move.
    devices: [{ device_id: 'reader-0001', community_id: 'c-1', metering_point_id: null, kind: 'meter-reader', name: 'Reader', status: 'active', created_at: '2025-01-10T09:10:00Z', last_seen_at: null }],
    readings: slowly(readings(2500)),
    statements: [{ statement_id: 's-1', community_id: 'c-1', period_start: '2026-04-30T22:00:00Z', period_end: '2026-05-31T22:00:00Z', currency: 'EUR', total: '-17.28', lines: [{ label: 'community energy', amount: '4.12' }, { label: 'feed-in', amount: '-21.40' }], savings: '6.02', co2_saved_kg: '31.5', issued_at: '2026-06-02T07:00:00Z' }],
    ...overrides,
  };
}

/**
 * The CRC-32 and size of every file as the archive's central directory states them: the
 * writer feeds them to the data descriptors itself, and unzipSync does not check them.
 */
function centralDirectory(zip: Uint8Array): Map<string, { crc: number; size: number }> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = zip.length - 22;
  while (view.getUint32(end, true) !== 0x06054b50) end--;
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const entries = new Map<string, { crc: number; size: number }>();
  for (let i = 0; i < count; i++) {
    expect(view.getUint32(at, true)).toBe(0x02014b50);
    const nameLength = view.getUint16(at + 28, true);
    const name = strFromU8(zip.subarray(at + 46, at + 46 + nameLength));
    entries.set(name, { crc: view.getUint32(at + 16, true), size: view.getUint32(at + 24, true) });
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return entries;
}

describe('writeMemberExport', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'privacy-export-')); });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes every kind as JSON and CSV, in parts when large, with a README', async () => {
    const progress: ExportProgress[] = [];
    const destination = join(dir, 'export.zip');
    const result = await writeMemberExport(sources(), destination, { readme: README, partRecords: 1000, progressEvery: 500, onProgress: (p) => progress.push(p), tmpDir: dir });
    const zip = await readFile(destination);
    const files = unzipSync(zip);
    const names = Object.keys(files);
    const directory = centralDirectory(zip);
    expect([...directory.keys()].sort()).toEqual([...names].sort());
    for (const [name, data] of Object.entries(files)) expect(directory.get(name), name).toEqual({ crc: crc32(data), size: data.length });

    for (const kind of EXPORT_KINDS) {
      expect(names, kind).toContain(`${kind}.json`);
      expect(names, kind).toContain(`${kind}.csv`);
      const [header] = parse(strFromU8(files[`${kind}.csv`]!)) as string[][];
      expect(header, kind).toEqual(EXPORT_KIND_SPECS[kind].columns);
    }
    expect(names).toEqual(expect.arrayContaining(['readings.part2.json', 'readings.part2.csv', 'readings.part3.json', 'readings.part3.csv', 'README.md']));
    expect(names).not.toContain('readings.part4.json');
    expect(result.totalRecords).toBe(2505);
    expect(result.bytes).toBe((await stat(destination)).size);

    // JSON: complete and exact, nested values kept, empty kinds an empty array.
    const parts = ['readings.json', 'readings.part2.json', 'readings.part3.json'].map((n) => JSON.parse(strFromU8(files[n]!)) as ExportRecord[]);
    expect(parts.map((p) => p.length)).toEqual([1000, 1000, 500]);
    expect(parts.flat()).toEqual(readings(2500));
    expect(JSON.parse(strFromU8(files['statements.json']!))[0].lines[1]).toEqual({ label: 'feed-in', amount: '-21.40' });
    expect(JSON.parse(strFromU8(files['consents.json']!))).toEqual([]);

    // CSV: formulas defused, figures untouched, nested values as JSON, nulls empty.
    const account = parse(strFromU8(files['account.csv']!), { columns: true }) as Record<string, string>[];
    expect(account[0]!.display_name).toBe('\'=HYPERLINK("http://evil.example","click")');
    expect(account[0]!.is_admin).toBe('false');
    const statement = (parse(strFromU8(files['statements.csv']!), { columns: true }) as Record<string, string>[])[0]!;
    expect(statement.total).toBe('-17.28');
    expect(JSON.parse(statement.lines!)).toHaveLength(2);
    const site = (parse(strFromU8(files['sites.csv']!), { columns: true }) as Record<string, string>[])[0]!;
    expect(site).toMatchObject({ address: 'Hauptstraße 12, 1010 Wien', battery_capacity_wh: '', created_at: '' });
    const device = (parse(strFromU8(files['devices.csv']!), { columns: true }) as Record<string, string>[])[0]!;
    expect(device).toEqual({ device_id: 'reader-0001', community_id: 'c-1', metering_point_id: '', kind: 'meter-reader', name: 'Reader', status: 'active', created_at: '2025-01-10T09:10:00Z', last_seen_at: '' });
    const csvRows = ['readings.csv', 'readings.part2.csv', 'readings.part3.csv'].map((n) => (parse(strFromU8(files[n]!)) as string[][]).length - 1);
    expect(csvRows).toEqual([1000, 1000, 500]);

    const readme = strFromU8(files['README.md']!);
    expect(readme).toContain('# Your data at Sunny Street');
    expect(readme).toContain('for Anna Maier');
    expect(readme).toContain('- readings.json, readings.csv, readings.part2.json, readings.part2.csv, readings.part3.json, readings.part3.csv: raw meter readings as your devices sent them (2,500 records)');
    expect(readme).toContain('- consents.json, consents.csv: consents you gave and received, and your data offers (no records)');
    expect(readme).toContain('- account.json, account.csv: your account: name, email, language, when it was created (1 record)');
    expect(readme).toMatch(/- devices\.json, devices\.csv: .*\(1 record\)/);

    // Progress: every 500 readings and at the end of each kind, never going back.
    expect(progress.filter((p) => p.kind === 'readings').map((p) => p.kindRecords)).toEqual([500, 1000, 1500, 2000, 2500, 2500]);
    expect(progress.at(-1)).toMatchObject({ kind: 'access-log', totalRecords: 2505 });
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.bytesWritten).toBeGreaterThanOrEqual(progress[i - 1]!.bytesWritten);
    // Nothing left behind but the archive.
    expect(await readdir(dir)).toEqual(['export.zip']);
  });

  it('writes the README in the member\'s language', async () => {
    const destination = join(dir, 'export.zip');
    await writeMemberExport(sources(), destination, { readme: { ...README, language: 'de', locale: 'de-AT' } });
    const readme = strFromU8(unzipSync(await readFile(destination))['README.md']!);
    expect(readme).toContain('# Ihre Daten bei Sunny Street');
    // de-AT groups thousands with a (narrow) no-break space.
    expect(readme).toMatch(/Rohdaten der Zähler, wie Ihre Geräte sie gesendet haben \(2\s500 Einträge\)/u);
  });

  it('streams: the archive is on disk before the sources are read to the end', async () => {
    const destination = join(dir, 'export.zip');
    let sizeMidway = -1;
    async function* watched(): AsyncGenerator<ExportRecord> {
      let i = 0;
      for (const record of readings(60_000)) {
        if (i++ === 50_000) sizeMidway = (await stat(`${destination}.partial`)).size;
        yield record;
      }
    }
    await writeMemberExport(sources({ readings: watched() }), destination, { readme: README, tmpDir: dir });
    // 50,000 readings are ~5 MB of JSON; most of it deflated and written by then.
    expect(sizeMidway).toBeGreaterThan(100_000);
    expect(existsSync(`${destination}.partial`)).toBe(false);
  });

  it.each([
    ['a NaN', { device_id: 'r', value: Number.NaN }, /readings record 2: value is not a finite number/],
    ['an undeclared field', { device_id: 'r', password_hash: 'x' }, /readings record 2: field password_hash is not a column of readings/],
    ['a Date', { device_id: 'r', ts: new Date(0) as unknown as string }, /ts is a object, not a JSON value/],
    ['a bigint', { device_id: 'r', value: 5n as unknown as number }, /value is a bigint/],
  ])('refuses %s and leaves no file behind', async (_what, bad, message) => {
    const destination = join(dir, 'export.zip');
    const spool = join(dir, 'spool');
    await rm(spool, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(spool));
    await expect(writeMemberExport(sources({ readings: slowly([readings(1)[0]!, bad as ExportRecord]) }), destination, { readme: README, tmpDir: spool })).rejects.toThrow(message);
    expect(await readdir(dir)).toEqual(['spool']);
    expect(await readdir(spool)).toEqual([]);
  });

  it('passes a failing source\'s error on, cleaning up', async () => {
    async function* broken(): AsyncGenerator<ExportRecord> {
      yield { metering_point_id: 'mp-1', start: '2026-03-01T00:00:00Z', import_wh: 120, export_wh: 0, pv_wh: null, quality: 'measured' };
      throw new Error('connection lost');
    }
    const destination = join(dir, 'export.zip');
    await expect(writeMemberExport(sources({ intervals: broken() }), destination, { readme: README, tmpDir: dir })).rejects.toThrow('connection lost');
    expect(await readdir(dir)).toEqual([]);
  });
});
