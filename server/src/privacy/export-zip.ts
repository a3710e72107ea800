import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { stringify } from 'csv-stringify/sync';
import { strToU8, Zip, ZipDeflate } from 'fflate';
import { PayloadTooLargeError } from '../kernel/errors.js';
import {
  checkExportRecord, csvCells, EXPORT_KIND_SPECS, EXPORT_KINDS, exportReadme,
  type ExportKind, type ExportRecord, type ReadmeContext, type ReadmeFile,
} from './domain/index.js';

/**
 * Writes a member's export (GDPR Art. 15/20) as a ZIP, streaming: records arrive from async
 * iterators (phase 2: keyset-paged queries), each kind goes out as JSON straight into the
 * archive and as CSV through a spool file (an iterator is read once, and the archive takes
 * one file at a time), then the README. Memory stays bounded by the chunk sizes, whatever the
 * export's size: a year of 10-second readings is millions of records.
 *
 * The archive is written to `<destination>.partial` and renamed when complete, so a failed or
 * interrupted export never leaves a file that looks finished.
 */

export type ExportSources = Readonly<Record<ExportKind, AsyncIterable<ExportRecord> | Iterable<ExportRecord>>>;

export interface ExportProgress {
  readonly kind: ExportKind;
  /** Records of this kind so far. */
  readonly kindRecords: number;
  readonly totalRecords: number;
  /** Bytes of the archive written so far. */
  readonly bytesWritten: number;
}

export interface ExportOptions {
  /** The README's context, without the files (they are known at the end). */
  readonly readme: Omit<ReadmeContext, 'files'>;
  readonly onProgress?: (progress: ExportProgress) => void;
  /** How many records before a progress report (default 10,000). */
  readonly progressEvery?: number;
  /** Records per file before a kind continues in a next part (default 1,000,000: a spreadsheet's rows). */
  readonly partRecords?: number;
  /** Where spool files go (default: the system's temp directory). */
  readonly tmpDir?: string;
  /** Deflate level 0–9 (default 6). */
  readonly level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

export interface ExportResult {
  readonly files: readonly { readonly name: string; readonly kind: ExportKind | null; readonly records: number }[];
  readonly totalRecords: number;
  readonly bytes: number;
}

/** Without ZIP64 (fflate writes none) no file and no offset may reach 4 GiB. */
const ZIP_LIMIT = 0xffff_ffff - 64 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;

/** Streams fflate's output to a file, waiting for the disk when it falls behind. */
class ArchiveWriter {
  readonly zip: Zip;
  private readonly out: WriteStream;
  private pending: Uint8Array[] = [];
  private failure: Error | undefined;
  bytes = 0;

  constructor(path: string) {
    this.out = createWriteStream(path);
    this.out.on('error', (error) => { this.failure ??= error; });
    this.zip = new Zip((error, chunk) => {
      if (error) this.failure ??= error;
      else this.pending.push(chunk);
    });
  }

  async flush(): Promise<void> {
    const chunks = this.pending;
    this.pending = [];
    for (const chunk of chunks) {
      this.bytes += chunk.length;
      if (this.bytes > ZIP_LIMIT) throw new PayloadTooLargeError('the export would exceed 4 GiB: export a shorter period');
      if (!this.out.write(chunk)) await once(this.out, 'drain');
    }
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    this.zip.end();
    await this.flush();
    this.out.end();
    await once(this.out, 'finish');
    if (this.failure) throw this.failure;
  }

  destroy(): void {
    this.zip.terminate();
    this.out.destroy();
  }
}

/** One archive entry, fed in chunks of text or bytes, deflated as it goes. */
class Entry {
  private readonly file: ZipDeflate;
  private buffer = '';
  size = 0;

  constructor(private readonly archive: ArchiveWriter, readonly name: string, level: ExportOptions['level']) {
    this.file = new ZipDeflate(name, { level: level ?? 6 });
    archive.zip.add(this.file);
  }

  async write(text: string): Promise<void> {
    this.buffer += text;
    if (this.buffer.length >= CHUNK_BYTES) await this.push(strToU8(this.take()));
  }

  async push(bytes: Uint8Array, final = false): Promise<void> {
    this.size += bytes.length;
    if (this.size > ZIP_LIMIT) throw new PayloadTooLargeError(`${this.name} would exceed 4 GiB: export a shorter period`);
    this.file.push(bytes, final);
    await this.archive.flush();
  }

  async end(text = ''): Promise<void> {
    this.buffer += text;
    await this.push(strToU8(this.take()), true);
  }

  private take(): string {
    const text = this.buffer;
    this.buffer = '';
    return text;
  }
}

/** CSV text spooled to a temporary file, then copied into the archive in chunks. */
class CsvSpool {
  private readonly out: WriteStream;
  private buffer = '';

  constructor(readonly path: string, header: readonly string[]) {
    this.out = createWriteStream(path);
    this.buffer = stringify([header]);
  }

  async write(rows: string[][]): Promise<void> {
    this.buffer += stringify(rows);
    if (this.buffer.length >= CHUNK_BYTES) {
      const text = this.buffer;
      this.buffer = '';
      if (!this.out.write(text)) await once(this.out, 'drain');
    }
  }

  async copyInto(entry: Entry): Promise<void> {
    this.out.end(this.buffer);
    await once(this.out, 'finish');
    for await (const chunk of createReadStream(this.path, { highWaterMark: CHUNK_BYTES })) await entry.push(chunk as Buffer);
    await entry.end();
    await rm(this.path, { force: true });
  }
}

/** Writes the export to `destination`; resolves once the archive is complete and in place. */
export async function writeMemberExport(sources: ExportSources, destination: string, options: ExportOptions): Promise<ExportResult> {
  const partRecords = options.partRecords ?? 1_000_000;
  const progressEvery = options.progressEvery ?? 10_000;
  if (!Number.isSafeInteger(partRecords) || partRecords < 1) throw new RangeError('partRecords is a positive whole number');
  const partial = `${destination}.partial`;
  const spoolDir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'gridshare-export-'));
  const archive = new ArchiveWriter(partial);
  const files: { name: string; kind: ExportKind | null; records: number }[] = [];
  const readmeFiles: ReadmeFile[] = [];
  let totalRecords = 0;
  try {
    for (const kind of EXPORT_KINDS) {
      const names: string[] = [];
      let kindRecords = 0;
      let part = 0;
      let partCount = 0;
      let json: Entry | undefined;
      let csv: CsvSpool | undefined;
      let rows: string[][] = [];
      const report = () => options.onProgress?.({ kind, kindRecords, totalRecords, bytesWritten: archive.bytes });
      const endPart = async () => {
        await csv!.write(rows);
        rows = [];
        await json!.end(partCount === 0 ? '[]\n' : '\n]\n');
        const csvEntry = new Entry(archive, json!.name.replace(/\.json$/, '.csv'), options.level);
        await csv!.copyInto(csvEntry);
        files.push({ name: json!.name, kind, records: partCount }, { name: csvEntry.name, kind, records: partCount });
        names.push(json!.name, csvEntry.name);
      };
      const startPart = () => {
        part++;
        partCount = 0;
        const base = part === 1 ? kind : `${kind}.part${part}`;
        json = new Entry(archive, `${base}.json`, options.level);
        csv = new CsvSpool(join(spoolDir, `${base}.csv`), EXPORT_KIND_SPECS[kind].columns);
      };
      startPart();
      for await (const record of sources[kind]) {
        if (partCount === partRecords) {
          await endPart();
          startPart();
        }
        checkExportRecord(kind, record, kindRecords);
        await json!.write(`${partCount === 0 ? '[\n' : ',\n'}${JSON.stringify(record)}`);
        rows.push(csvCells(kind, record));
        if (rows.length >= 1000) {
          await csv!.write(rows);
          rows = [];
        }
        partCount++;
        kindRecords++;
        totalRecords++;
        if (kindRecords % progressEvery === 0) report();
      }
      await endPart();
      readmeFiles.push({ kind, names, records: kindRecords });
      report();
    }
    const readme = new Entry(archive, 'README.md', options.level);
    await readme.end(exportReadme({ ...options.readme, files: readmeFiles }));
    files.push({ name: 'README.md', kind: null, records: 0 });
    await archive.close();
    await rename(partial, destination);
    return { files, totalRecords, bytes: archive.bytes };
  } catch (error) {
    archive.destroy();
    await rm(partial, { force: true });
    throw error;
  } finally {
    await rm(spoolDir, { recursive: true, force: true });
  }
}
