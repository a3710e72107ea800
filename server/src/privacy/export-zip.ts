import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { stringify } from 'csv-stringify/sync';
import { createDeflateRaw, crc32, type DeflateRaw } from 'node:zlib';
import { Zip, type AsyncFlateStreamHandler, type ZipInputFile } from 'fflate';
import { PayloadTooLargeError } from '../kernel/errors.js';
import { checkExportRecord, csvCells, EXPORT_KIND_SPECS, EXPORT_KINDS, exportReadme, type ExportKind, type ExportRecord, type ReadmeContext, type ReadmeFile } from './domain/index.js';

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
  private readonly open: { destroy(): void }[] = [];
  bytes = 0;

  constructor(path: string) {
    this.out = createWriteStream(path);
    this.out.on('error', (error) => { this.failure ??= error; });
    this.zip = new Zip((error, chunk) => {
      if (error) this.failure ??= error;
      else this.pending.push(chunk);
    });
  }

  fail(error: Error): void {
    this.failure ??= error;
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

  /** Entries and spools still open are closed with the archive when it fails. */
  track<T extends { destroy(): void }>(stream: T): T {
    this.open.push(stream);
    return stream;
  }

  destroy(): void {
    for (const stream of this.open) stream.destroy();
    this.zip.terminate();
    this.out.destroy();
  }
}

/**
 * One archive entry, fed in chunks of text or bytes. fflate lays out the archive (headers, data
 * descriptors, central directory); the deflating is Node's zlib, which runs on libuv's thread
 * pool, off the event loop, and several times faster than deflate in JavaScript.
 */
class Entry implements ZipInputFile {
  readonly compression = 8;
  readonly flag = 0;
  crc = 0;
  size = 0;
  ondata: AsyncFlateStreamHandler = () => {};
  private readonly deflate: DeflateRaw;
  private buffer = '';

  constructor(private readonly archive: ArchiveWriter, readonly filename: string, level: ExportOptions['level'], readonly mtime: number) {
    this.deflate = createDeflateRaw({ level: level ?? 6 });
    // zlib's output buffers are never shared memory, which is all fflate's narrower type says.
    this.deflate.on('data', (chunk: Buffer) => this.ondata(null, chunk as Uint8Array<ArrayBuffer>, false));
    this.deflate.on('error', (error) => archive.fail(error));
    archive.zip.add(this);
  }

  async write(text: string): Promise<void> {
    this.buffer += text;
    if (this.buffer.length >= CHUNK_BYTES) await this.push(Buffer.from(this.take()));
  }

  async push(bytes: Uint8Array): Promise<void> {
    this.size += bytes.length;
    if (this.size > ZIP_LIMIT) throw new PayloadTooLargeError(`${this.filename} would exceed 4 GiB: export a shorter period`);
    this.crc = crc32(bytes, this.crc);
    if (!this.deflate.write(bytes)) await once(this.deflate, 'drain');
    await this.archive.flush();
  }

  async end(text = ''): Promise<void> {
    this.buffer += text;
    if (this.buffer !== '') await this.push(Buffer.from(this.take()));
    const ended = once(this.deflate, 'end');
    this.deflate.end();
    await ended;
    // fflate writes the data descriptor (crc, sizes) on the final call.
    this.ondata(null, new Uint8Array(0), true);
    await this.archive.flush();
  }

  destroy(): void {
    this.deflate.destroy();
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

  private failure: Error | undefined;

  constructor(readonly path: string, header: readonly string[]) {
    this.out = createWriteStream(path);
    this.out.on('error', (error) => { this.failure ??= error; });
    this.buffer = stringify([header]);
  }

  async write(rows: string[][]): Promise<void> {
    this.buffer += stringify(rows);
    if (this.buffer.length >= CHUNK_BYTES) {
      const text = this.buffer;
      this.buffer = '';
      if (this.failure) throw this.failure;
      if (!this.out.write(text)) await once(this.out, 'drain');
    }
  }

  async copyInto(entry: Entry): Promise<void> {
    this.out.end(this.buffer);
    await once(this.out, 'finish');
    if (this.failure) throw this.failure;
    for await (const chunk of createReadStream(this.path, { highWaterMark: CHUNK_BYTES })) await entry.push(chunk as Buffer);
    await entry.end();
    await rm(this.path, { force: true });
  }

  destroy(): void {
    this.out.destroy();
  }
}

/** Writes the export to `destination`; resolves once the archive is complete and in place. */
export async function writeMemberExport(sources: ExportSources, destination: string, options: ExportOptions): Promise<ExportResult> {
  const partRecords = options.partRecords ?? 1_000_000;
  const progressEvery = options.progressEvery ?? 10_000;
  if (!Number.isSafeInteger(partRecords) || partRecords < 1) throw new RangeError('partRecords is a positive whole number');
  // ZIP timestamps run from 1980 to 2107 (fflate: 2099); the export's time is every file's.
  const year = new Date(options.readme.generatedAt).getUTCFullYear();
  if (!(year >= 1981 && year <= 2098)) throw new RangeError(`generatedAt must be an instant between 1981 and 2098, got ${options.readme.generatedAt}`);
  const partial = `${destination}.partial`;
  const spoolDir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'gridshare-export-'));
  const archive = new ArchiveWriter(partial);
  const newEntry = (name: string) => archive.track(new Entry(archive, name, options.level, options.readme.generatedAt));
  const files: { name: string; kind: ExportKind | null; records: number }[] = [];
  const readmeFiles: ReadmeFile[] = [];
  let totalRecords = 0;
  try {
    for (const kind of EXPORT_KINDS) {
      const names: string[] = [];
      let kindRecords = 0;
      let part = 0;
      let partCount = 0;
      let json = newEntry(`${kind}.json`);
      let csv = archive.track(new CsvSpool(join(spoolDir, `${kind}.csv`), EXPORT_KIND_SPECS[kind].columns));
      let rows: string[][] = [];
      const endPart = async () => {
        await csv.write(rows);
        rows = [];
        await json.end(partCount === 0 ? '[]\n' : '\n]\n');
        const csvEntry = newEntry(json.filename.replace(/\.json$/, '.csv'));
        await csv.copyInto(csvEntry);
        files.push({ name: json.filename, kind, records: partCount }, { name: csvEntry.filename, kind, records: partCount });
        names.push(json.filename, csvEntry.filename);
      };
      const report = () => options.onProgress?.({ kind, kindRecords, totalRecords, bytesWritten: archive.bytes });
      for await (const record of sources[kind]) {
        if (partCount === partRecords) {
          await endPart();
          part++;
          partCount = 0;
          json = newEntry(`${kind}.part${part + 1}.json`);
          csv = archive.track(new CsvSpool(join(spoolDir, `${kind}.part${part + 1}.csv`), EXPORT_KIND_SPECS[kind].columns));
        }
        checkExportRecord(kind, record, kindRecords);
        await json.write(`${partCount === 0 ? '[\n' : ',\n'}${JSON.stringify(record)}`);
        rows.push(csvCells(kind, record));
        if (rows.length >= 1000) {
          await csv.write(rows);
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
    await newEntry('README.md').end(exportReadme({ ...options.readme, files: readmeFiles }));
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
