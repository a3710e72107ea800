import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { Type, type Static } from 'typebox';
import { formatUtcInstant } from '../../kernel/time.js';
import { columnIndex, detectDelimiter, type CsvDelimiter } from '../domain/csv.js';
import { errorReport, fileFingerprint, selectFiles, type ListedFile } from '../domain/files.js';
import type { Problem, TargetReading } from '../domain/readings.js';
import { recordMapper, recordMappingProblems, type RecordMapping } from '../domain/records.js';
import { timeZoneProblem, timestampFormatProblem } from '../domain/timestamps.js';
import { openFtp } from '../files/ftp.js';
import { openLocalFolder } from '../files/local.js';
import { openSftp } from '../files/sftp.js';
import { isPlainName, type FileSource } from '../files/source.js';
import { ConnectorError, type ConnectorKind, type RunContext } from '../kind.js';
import { registerKind } from '../registry.js';
import { Host, Port, Secret, TimeZone, TimestampFormatSchema, ValueMappingSchema } from '../schema.js';

/**
 * Inside a union (source, afterRead) ajv fills in no defaults, so those fields are optional and
 * their defaults, stated in the schema for the form, are applied where they are used.
 *
 * `csv-files`: CSV exports in a folder on this server, on an FTP server or on an SFTP server
 * (a utility portal's or a gateway's "FTP filestream"). A run reads new files, maps their rows
 * to readings and returns them; only after the platform stored them (the state was saved) are
 * the files renamed (`.read`) or moved, at the next run or by `finish`, so a crash in between
 * reads a file twice (harmless: storage is idempotent) and never loses one. A file with bad rows
 * still gives its good rows; it is renamed `.failed` with its problems written next to it
 * (`<name>.errors.txt`).
 */
const Source = Type.Union([
  Type.Object({ type: Type.Literal('local'), folder: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false }),
  Type.Object({
    type: Type.Literal('ftp'),
    host: Host,
    port: Type.Optional(Port(21)),
    user: Type.String({ minLength: 1, maxLength: 256 }),
    password: Secret('FTP password'),
    secure: Type.Optional(Type.Enum(['none', 'explicit', 'implicit'], { default: 'none', description: 'FTPS: explicit (AUTH TLS) or implicit (port 990)' })),
    folder: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, default: '/' })),
  }, { additionalProperties: false }),
  Type.Object({
    type: Type.Literal('sftp'),
    host: Host,
    port: Type.Optional(Port(22)),
    username: Type.String({ minLength: 1, maxLength: 256 }),
    password: Type.Optional(Secret('SFTP password')),
    privateKey: Type.Optional(Secret('Private key (OpenSSH or PEM)')),
    passphrase: Type.Optional(Secret('Passphrase of the private key')),
    hostKeySha256: Type.Optional(Type.String({ pattern: '^SHA256:[A-Za-z0-9+/]{43}$', description: 'Pinned host key fingerprint, as ssh-keygen -lf prints it' })),
    folder: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, default: '.' })),
  }, { additionalProperties: false }),
]);

const AfterRead = Type.Union([
  Type.Object({ action: Type.Literal('rename'), suffix: Type.Optional(Type.String({ minLength: 1, maxLength: 32, pattern: '^[^/\\\\]+$', default: '.read' })) }, { additionalProperties: false }),
  Type.Object({ action: Type.Literal('move'), folder: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false }),
  Type.Object({ action: Type.Literal('keep') }, { additionalProperties: false, description: 'Leave files in place; the state remembers which were read' }),
], { default: { action: 'rename', suffix: '.read' } });

const Config = Type.Object({
  source: Source,
  pattern: Type.String({ minLength: 1, maxLength: 200, default: '*.csv', description: 'File names to read (* and ?)' }),
  afterRead: AfterRead,
  failedSuffix: Type.String({ minLength: 1, maxLength: 32, pattern: '^[^/\\\\]+$', default: '.failed' }),
  csv: Type.Object({
    delimiter: Type.Enum(['auto', ',', ';', '\t', '|'], { default: 'auto' }),
    header: Type.Boolean({ default: true, description: 'The first line (after skipLines) names the columns; without it columns are "1", "2", …' }),
    skipLines: Type.Integer({ minimum: 0, maximum: 100, default: 0 }),
    encoding: Type.Enum(['utf-8', 'windows-1252', 'iso-8859-1'], { default: 'utf-8' }),
    decimalSeparator: Type.Enum(['.', ','], { default: '.' }),
  }, { additionalProperties: false, default: {} }),
  mapping: Type.Object({
    timestampColumn: Type.String({ minLength: 1, maxLength: 200 }),
    timestampFormat: TimestampFormatSchema,
    timeZone: TimeZone,
    values: Type.Array(ValueMappingSchema('Column name (or number without a header)'), { minItems: 1, maxItems: 200 }),
  }, { additionalProperties: false }),
  maxFiles: Type.Integer({ minimum: 1, maximum: 1000, default: 20, description: 'Files per run; the rest wait for the next run' }),
  maxFileBytes: Type.Integer({ minimum: 1024, maximum: 256 * 1024 * 1024, default: 64 * 1024 * 1024 }),
  timeoutMs: Type.Integer({ minimum: 1000, maximum: 600_000, default: 30_000, description: 'Connecting and each server operation' }),
}, { additionalProperties: false });
type Config = Static<typeof Config>;

const Pending = Type.Object({
  name: Type.String(),
  size: Type.Number(),
  modifiedMs: Type.Number(),
  /** The errors to write next to a failed file; absent for a good one. */
  report: Type.Optional(Type.String()),
});
const State = Type.Object({
  /** Fingerprints of files read (bounded): files kept in place, or whose rename failed, are not read again. */
  processed: Type.Array(Type.String(), { default: [] }),
  /** Files read in the last run, to rename or move once their readings are stored. */
  pending: Type.Array(Pending, { default: [] }),
});
type State = Static<typeof State>;

const MAX_REMEMBERED = 5000;
const MAX_REPORTED_PROBLEMS = 200;
const CHUNK = 64 * 1024;

function mappingOf(config: Config): RecordMapping {
  const m = config.mapping;
  return { timestampField: m.timestampColumn, timestampFormat: m.timestampFormat, timeZone: m.timeZone, values: m.values, decimalSeparator: config.csv.decimalSeparator as '.' | ',' };
}

async function openSource(config: Config, signal: AbortSignal): Promise<FileSource> {
  const s = config.source;
  switch (s.type) {
    case 'local': return openLocalFolder(s.folder);
    case 'ftp': return openFtp({ ...s, port: s.port ?? 21, folder: s.folder ?? '/', secure: (s.secure ?? 'none') as 'none' | 'explicit' | 'implicit', timeoutMs: config.timeoutMs }, signal);
    case 'sftp': return openSftp({ ...s, port: s.port ?? 22, folder: s.folder ?? '.', timeoutMs: config.timeoutMs }, signal);
  }
}

interface ParsedFile {
  readonly readings: TargetReading[];
  readonly problems: Problem[];
}

/** Maps one file's rows; reading stops at `limit` readings (the dry run). Yields to the event loop between chunks. */
async function parseCsvFile(name: string, content: Buffer, config: Config, signal: AbortSignal, limit = Number.POSITIVE_INFINITY): Promise<ParsedFile> {
  const text = new TextDecoder(config.csv.encoding).decode(content);
  const readings: TargetReading[] = [];
  const problems: Problem[] = [];
  const firstLine = text.split(/\r?\n/, config.csv.skipLines + 1)[config.csv.skipLines] ?? '';
  const delimiter = config.csv.delimiter === 'auto' ? detectDelimiter(firstLine) : (config.csv.delimiter as CsvDelimiter);
  const mapping = mappingOf(config);
  const mapRecord = recordMapper(mapping);
  const parser = parse({
    delimiter,
    from_line: config.csv.skipLines + 1,
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count_more: true,
    skip_records_with_error: true,
    info: true,
    on_skip: (error) => {
      problems.push({ where: `${name}:${(error as { lines?: number } | undefined)?.lines ?? '?'}`, message: error?.message ?? 'unreadable row' });
      return undefined;
    },
  });
  Readable.from((function* chunks() {
    for (let at = 0; at < text.length; at += CHUNK) yield text.slice(at, at + CHUNK);
  })()).pipe(parser);

  let index: ReadonlyMap<string, number> | undefined;
  if (!config.csv.header) {
    const columns = columnIndex(undefined, mapping);
    if ('missing' in columns) throw new ConnectorError('config', `without a header, columns are numbers: ${columns.missing.join(', ')} is not`);
    index = columns.index;
  }
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (signal.aborted) throw signal.reason;
      if (!index) {
        const columns = columnIndex(record, mapping);
        if ('missing' in columns) {
          problems.push({ where: `${name}:${info.lines}`, message: `no column ${columns.missing.map((c) => `"${c}"`).join(', ')} in the header (it has ${record.map((c) => `"${c}"`).join(', ')}; delimiter "${delimiter}")` });
          break;
        }
        index = columns.index;
        continue;
      }
      const at = index;
      const mapped = mapRecord((field) => record[at.get(field)!], `${name}:${info.lines}`);
      readings.push(...mapped.readings);
      problems.push(...mapped.problems);
      if (readings.length >= limit) break;
    }
  } finally {
    parser.destroy();
  }
  // The parser reports an unreadable row as soon as it meets it, ahead of the rows before it.
  const line = (p: Problem): number => Number(p.where.slice(name.length + 1)) || 0;
  return { readings, problems: problems.sort((a, b) => line(a) - line(b)) };
}

/** Renames or moves the files of the last run, now that their readings are stored. */
async function finishPending(source: FileSource, config: Config, state: State, problems: Problem[]): Promise<State> {
  const processed = [...state.processed];
  for (const file of state.pending) {
    processed.push(fileFingerprint(file));
    try {
      if (file.report !== undefined) {
        await source.write(`${file.name}.errors.txt`, file.report);
        await source.rename(file.name, `${file.name}${config.failedSuffix}`);
      } else if (config.afterRead.action === 'rename') {
        await source.rename(file.name, `${file.name}${readSuffix(config)}`);
      } else if (config.afterRead.action === 'move') {
        await source.move(file.name, config.afterRead.folder);
      }
    } catch (error) {
      // Its readings are stored and its fingerprint is remembered: it is not read again.
      problems.push({ where: file.name, message: `read, but could not be ${file.report ? 'marked failed' : 'renamed or moved'}: ${(error as Error).message}` });
    }
  }
  return { processed: processed.slice(-MAX_REMEMBERED), pending: [] };
}

async function withSource<T>(config: Config, context: RunContext, work: (source: FileSource) => Promise<T>): Promise<T> {
  const source = await openSource(config, context.signal);
  try {
    return await work(source);
  } finally {
    await source.close();
  }
}

const readSuffix = (config: Config): string => (config.afterRead.action === 'rename' ? config.afterRead.suffix ?? '.read' : '');

function ownSuffixes(config: Config): string[] {
  return [config.failedSuffix, '.errors.txt', ...(config.afterRead.action === 'rename' ? [readSuffix(config)] : [])];
}

const kind: ConnectorKind<typeof Config, typeof State> = {
  name: 'csv-files',
  summary: 'CSV files in a local folder or on an FTP or SFTP server (renamed or moved once read)',
  configSchema: Config,
  stateSchema: State,
  initialState: { processed: [], pending: [] },
  defaultTimeoutMs: 120_000,
  configProblems(config) {
    const problems = recordMappingProblems(mappingOf(config)).map((p) => `mapping/${p}`);
    const zone = timeZoneProblem(config.mapping.timeZone);
    if (zone) problems.push(`mapping/timeZone: ${zone}`);
    const format = timestampFormatProblem(config.mapping.timestampFormat);
    if (format) problems.push(`mapping/timestampFormat: ${format}`);
    if (config.source.type === 'sftp' && config.source.password === undefined && config.source.privateKey === undefined) problems.push('source: give a password or a private key');
    if (readSuffix(config) === config.failedSuffix) problems.push('afterRead/suffix: must differ from failedSuffix');
    return problems;
  },
  async test(config, context, limit) {
    return withSource(config, context, async (source) => {
      const listing = await source.list();
      const matching = selectFiles(listing, { pattern: config.pattern, processed: new Set(), maxFiles: Number.POSITIVE_INFINITY, ownSuffixes: ownSuffixes(config) });
      const first = matching[0];
      if (!first) throw new ConnectorError('source', `no file matching "${config.pattern}" in ${source.location} (${listing.length} other files)`);
      const parsed = await parseCsvFile(first.name, await source.read(first.name, config.maxFileBytes), config, context.signal, limit);
      return { readings: parsed.readings, problems: parsed.problems.slice(0, limit), details: { ...source.details, file: first.name, matching: String(matching.length) } };
    });
  },
  async run(config, state, context) {
    return withSource(config, context, async (source) => {
      const problems: Problem[] = [];
      const finished = await finishPending(source, config, state, problems);
      const listing = await source.list();
      const selection = { pattern: config.pattern, processed: new Set(finished.processed), maxFiles: config.maxFiles, ownSuffixes: ownSuffixes(config) };
      const files: ListedFile[] = selectFiles(listing, selection);
      const more = selectFiles(listing, { ...selection, maxFiles: config.maxFiles + 1 }).length > files.length;
      const readings: TargetReading[] = [];
      const pending: Static<typeof Pending>[] = [];
      for (const file of files) {
        if (!isPlainName(file.name)) continue;
        let parsed: ParsedFile;
        try {
          parsed = await parseCsvFile(file.name, await source.read(file.name, config.maxFileBytes), config, context.signal);
        } catch (error) {
          if (context.signal.aborted || !(error instanceof ConnectorError) || error.code !== 'source') throw error;
          parsed = { readings: [], problems: [{ where: file.name, message: error.message }] };
        }
        readings.push(...parsed.readings);
        problems.push(...parsed.problems);
        pending.push({
          name: file.name, size: file.size, modifiedMs: file.modifiedMs,
          report: parsed.problems.length === 0 ? undefined : errorReport(file.name, parsed.problems.slice(0, MAX_REPORTED_PROBLEMS), formatUtcInstant(context.now()), parsed.readings.length),
        });
      }
      return {
        readings,
        problems,
        more,
        state: { processed: finished.processed, pending },
        details: { ...source.details, files: files.map((f) => f.name).join(', ') },
      };
    });
  },
  async finish(config, state, context) {
    return withSource(config, context, async (source) => {
      const problems: Problem[] = [];
      return { state: await finishPending(source, config, state, problems), problems };
    });
  },
};

registerKind(kind);
