import { readFile, rename, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { AllocationInputError, bindShares, chunkBoundaries, createAllocator, createResult, getRule, parseCoefficients, parseSharesCsv, resultView, ruleNames, sliceMatrix, summaryBuilder, accumulate, finishSummary, type IntervalMatrix, type ShareSchedule, type ShareTable } from './domain/allocation/index.js';
import { ByteWriter, CsvSyntaxError, readLines, splitCsvLine, type ReadProgress } from './csv.js';
import { DATE_RANGE_TEXT, formatUtcInstant, parseUtcInstant, QUARTER_HOUR_MS } from '../kernel/time.js';

import { MAX_INTERVAL_WH } from '../kernel/energy.js';
import { escapeField } from '../kernel/csv.js';
/**
 * `gridshare allocate`: runs an allocation rule over exported interval data, offline.
 *
 *   input   interval_start,member_id,import_wh,export_wh[,pv_wh]   (UTC ISO, whole Wh)
 *   output  interval_start,member_id,from_community_wh,to_community_wh,from_grid_wh,to_grid_wh
 *           [,self_consumed_wh when the input has pv_wh]
 *
 * The whole input is read and validated before anything is written; the output goes to a
 * temporary file renamed into place at the end, so bad input leaves no partial result.
 */
export const INPUT_HEADER = ['interval_start', 'member_id', 'import_wh', 'export_wh'] as const;
export const OUTPUT_HEADER = ['interval_start', 'member_id', 'from_community_wh', 'to_community_wh', 'from_grid_wh', 'to_grid_wh'] as const;

export interface AllocateOptions {
  readonly input: string;
  readonly rule: string;
  readonly out: string;
  readonly shares?: string | undefined;
  readonly coefficients?: string | undefined;
  readonly coefficientsYear?: number | undefined;
  readonly coefficientsResolution?: 15 | 30 | 60 | undefined;
  readonly utcOffset?: number | undefined;
  readonly redistribute?: 'shares' | 'consumption' | undefined;
  /** Progress on stderr (default: on for inputs over 5 MB). */
  readonly progress?: boolean | undefined;
}

export interface AllocateSummary {
  readonly rule: string;
  readonly input: string;
  readonly out: string;
  readonly rows: number;
  readonly members: number;
  readonly intervals: number;
  readonly firstInterval: string | null;
  readonly lastInterval: string | null;
  readonly totals: {
    readonly importWh: number;
    readonly exportWh: number;
    readonly sharedWh: number;
    readonly fromGridWh: number;
    readonly toGridWh: number;
    readonly selfConsumedWh: number | null;
  };
  /** Σ shared / Σ import. */
  readonly selfSufficiency: number | null;
  /** Σ shared / Σ export. */
  readonly sharedExportRate: number | null;
  /** Members of the share/coefficient file without rows in the input (their share goes unused). */
  readonly membersWithoutData: readonly string[];
  readonly durationMs: number;
}

export interface AllocateIo {
  /** Where progress lines go (stderr in the CLI). */
  readonly progress?: ((line: string, final: boolean) => void) | undefined;
}

const COMMA = 44;
const QUOTE = 34;

/** Digits of text[from, to) as a number, or −1 if empty, not all digits, or too large. */
function digitsAt(text: string, from: number, to: number): number {
  if (to <= from || to - from > 10) return -1;
  let value = 0;
  for (let k = from; k < to; k++) {
    const d = text.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value > MAX_INTERVAL_WH ? -1 : value;
}

/**
 * Reads and checks the intervals file into an interval-major matrix.
 *
 * Two paths: plain rows (same timestamp as the row before, members in a repeating order,
 * digits only) are read in place without creating strings; anything else — a new timestamp,
 * a new member, quotes, a bad value — goes through the strict field-by-field path, which is
 * also the one that reports errors. Both fill the same columns.
 */
export async function readIntervals(path: string, onProgress?: (p: ReadProgress) => void): Promise<{ matrix: IntervalMatrix; present: Uint8Array; rows: number; hasPv: boolean }> {
  // Columns grow as rows arrive; the matrix is built once the intervals and members are known.
  let capacity = 1 << 16;
  let quarterCol = new Int32Array(capacity);
  let memberCol = new Int32Array(capacity);
  let importCol = new Int32Array(capacity);
  let exportCol = new Int32Array(capacity);
  let pvCol: Int32Array | undefined;
  // Line numbers (for the duplicate error) are row + offset; offsets change only after blank
  // lines, so only those changes are kept: [row, line] pairs.
  const lineJumps: [number, number][] = [];
  let nextLine = -1;
  let rows = 0;
  let hasPv = false;
  let headerSeen = false;
  const memberIndex = new Map<string, number>();
  const memberIds: string[] = [];
  const quarters: number[] = [];
  let lastStamp = '';
  let lastQuarter = -1;
  let lastMember = -1;

  const push = (quarter: number, member: number, imp: number, exp: number, pv: number, line: number) => {
    if (rows === capacity) {
      capacity = Math.floor(capacity * 1.5);
      const grow = (a: Int32Array) => { const b = new Int32Array(capacity); b.set(a); return b; };
      quarterCol = grow(quarterCol); memberCol = grow(memberCol); importCol = grow(importCol);
      exportCol = grow(exportCol);
      if (pvCol) pvCol = grow(pvCol);
    }
    quarterCol[rows] = quarter;
    memberCol[rows] = member;
    importCol[rows] = imp;
    exportCol[rows] = exp;
    if (pvCol) pvCol[rows] = pv;
    if (line !== nextLine) lineJumps.push([rows, line]);
    nextLine = line + 1;
    rows++;
    lastMember = member;
  };

  const wholeWh = (text: string, column: string, line: number, allowEmpty: boolean): number => {
    if (text === '' && allowEmpty) return -1;
    if (!/^\d+$/.test(text)) {
      const what = text === '' ? 'is empty'
        : /^-\d+(\.\d+)?$/.test(text) ? 'is negative'
        : /^\d*\.\d+$/.test(text) ? 'is not a whole number of Wh'
        : 'is not a number';
      throw new AllocationInputError(`${column} "${text}" ${what}`, line);
    }
    const value = Number(text);
    if (value > MAX_INTERVAL_WH) throw new AllocationInputError(`${column} ${text} is larger than ${MAX_INTERVAL_WH} Wh`, line);
    return value;
  };

  const header = (fields: string[], line: number) => {
    headerSeen = true;
    const names = fields.map((f) => f.trim().toLowerCase());
    const base = names.slice(0, 4).join(',') === INPUT_HEADER.join(',');
    hasPv = names.length === 5 && names[4] === 'pv_wh';
    if (!base || (names.length !== 4 && !hasPv)) {
      throw new AllocationInputError(`header must be "${INPUT_HEADER.join(',')}" (optionally followed by ",pv_wh"), found "${fields.join(',')}"`, line);
    }
    if (hasPv) pvCol = new Int32Array(capacity);
  };

  /** The strict path: every check, every error message. */
  const slowRow = (fields: string[], line: number) => {
    const expected = hasPv ? 5 : 4;
    if (fields.length !== expected) throw new AllocationInputError(`expected ${expected} fields, found ${fields.length}`, line);
    const stamp = fields[0]!;
    let quarter = lastQuarter;
    if (stamp !== lastStamp) {
      const ms = parseUtcInstant(stamp);
      if (ms === undefined) throw new AllocationInputError(`interval_start "${stamp}" is not a UTC ISO timestamp like 2024-01-01T00:15:00Z ${DATE_RANGE_TEXT}`, line);
      if (ms % QUARTER_HOUR_MS !== 0) throw new AllocationInputError(`interval_start ${stamp} is not on a 15-minute UTC boundary`, line);
      quarter = ms / QUARTER_HOUR_MS;
      if (quarter !== lastQuarter) quarters.push(quarter);
      lastStamp = stamp;
      lastQuarter = quarter;
    }
    const id = fields[1]!;
    if (id.trim() === '') throw new AllocationInputError('member_id is empty', line);
    let member = memberIndex.get(id);
    if (member === undefined) {
      member = memberIds.length;
      memberIndex.set(id, member);
      memberIds.push(id);
    }
    const imp = wholeWh(fields[2]!, 'import_wh', line, false);
    const exp = wholeWh(fields[3]!, 'export_wh', line, false);
    const pv = hasPv ? wholeWh(fields[4]!, 'pv_wh', line, true) : -1;
    if (pv >= 0 && pv < exp) throw new AllocationInputError(`pv_wh ${pv} is smaller than export_wh ${exp}: export must come from PV`, line);
    push(quarter, member, imp, exp, pv, line);
  };

  /** The in-place path for plain rows; false hands the row to slowRow. */
  const fastRow = (text: string, start: number, end: number, line: number): boolean => {
    const c1 = start + lastStamp.length;
    if (lastStamp === '' || c1 >= end || text.charCodeAt(c1) !== COMMA || !text.startsWith(lastStamp, start)) return false;
    let member = lastMember + 1 < memberIds.length ? lastMember + 1 : 0;
    const predicted = memberIds[member];
    let c2 = predicted === undefined ? -1 : c1 + 1 + predicted.length;
    if (predicted === undefined || c2 >= end || text.charCodeAt(c2) !== COMMA || !text.startsWith(predicted, c1 + 1)) {
      c2 = text.indexOf(',', c1 + 1);
      if (c2 < 0 || c2 >= end || c2 === c1 + 1) return false;
      const known = memberIndex.get(text.slice(c1 + 1, c2));
      if (known === undefined) return false;
      member = known;
    }
    const c3 = text.indexOf(',', c2 + 1);
    if (c3 < 0 || c3 >= end) return false;
    const imp = digitsAt(text, c2 + 1, c3);
    if (imp < 0) return false;
    let exp: number;
    let pv = -1;
    if (hasPv) {
      const c4 = text.indexOf(',', c3 + 1);
      if (c4 < 0 || c4 >= end) return false;
      exp = digitsAt(text, c3 + 1, c4);
      if (c4 + 1 < end) {
        pv = digitsAt(text, c4 + 1, end);
        if (pv < exp) return false;
      }
    } else {
      exp = digitsAt(text, c3 + 1, end);
    }
    if (exp < 0) return false;
    // digitsAt refuses commas and quotes, so the row had exactly the expected fields.
    if (text.charCodeAt(c1 + 1) === QUOTE) return false;
    push(lastQuarter, member, imp, exp, pv, line);
    return true;
  };

  await readLines(path, (text, start, end, line) => {
    if (!headerSeen) return header(splitCsvLine(text.slice(start, end), line), line);
    if (!fastRow(text, start, end, line)) slowRow(splitCsvLine(text.slice(start, end), line), line);
  }, onProgress).catch((error: unknown) => {
    if (error instanceof CsvSyntaxError) throw new AllocationInputError(error.message.replace(/^line \d+: /, ''), error.line);
    throw error;
  });
  if (!headerSeen) throw new AllocationInputError('input file is empty');
  if (rows === 0) throw new AllocationInputError('input has a header but no rows');

  const distinct = Float64Array.from(new Set(quarters)).sort();
  const T = distinct.length;
  const n = memberIds.length;
  const slot = new Map<number, number>();
  distinct.forEach((q, t) => slot.set(q, t));
  const importWh = new Int32Array(T * n);
  const exportWh = new Int32Array(T * n);
  const pvWh = hasPv ? new Int32Array(T * n).fill(-1) : undefined;
  const present = new Uint8Array(T * n);
  const lineOf = (r: number): number => {
    let j = lineJumps.length - 1;
    while (lineJumps[j]![0] > r) j--;
    return lineJumps[j]![1] + (r - lineJumps[j]![0]);
  };
  for (let r = 0; r < rows; r++) {
    const k = slot.get(quarterCol[r]!)! * n + memberCol[r]!;
    if (present[k]) {
      let first = 0;
      while (quarterCol[first] !== quarterCol[r] || memberCol[first] !== memberCol[r]) first++;
      throw new AllocationInputError(`duplicate row for member ${memberIds[memberCol[r]!]} at ${formatUtcInstant(quarterCol[r]! * QUARTER_HOUR_MS)} (first on line ${lineOf(first)})`, lineOf(r));
    }
    present[k] = 1;
    importWh[k] = importCol[r]!;
    exportWh[k] = exportCol[r]!;
    if (pvWh && pvCol) pvWh[k] = pvCol[r]!;
  }
  const intervalStartMs = Float64Array.from(distinct, (q) => q * QUARTER_HOUR_MS);
  return { matrix: { memberIds, intervalStartMs, importWh, exportWh, pvWh }, present, rows, hasPv };
}

async function loadShareTable(options: AllocateOptions): Promise<ShareTable | undefined> {
  if (options.shares && options.coefficients) throw new AllocationInputError('give either --shares or --coefficients, not both');
  const read = async (path: string, what: string) => {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      throw new AllocationInputError(`cannot read ${what} ${path}: ${(error as Error).message}`);
    }
  };
  const withFile = (path: string, parse: () => ShareTable) => {
    try {
      return parse();
    } catch (error) {
      if (error instanceof AllocationInputError) throw new AllocationInputError(`${path}: ${error.message}`);
      throw error;
    }
  };
  if (options.shares) {
    const path = options.shares;
    const text = await read(path, 'shares file');
    return withFile(path, () => parseSharesCsv(text));
  }
  if (options.coefficients) {
    const path = options.coefficients;
    const text = await read(path, 'coefficients file');
    return withFile(path, () => parseCoefficients(text, {
      fileName: basename(path),
      year: options.coefficientsYear,
      resolutionMinutes: options.coefficientsResolution,
      utcOffsetHours: options.utcOffset,
    }));
  }
  return undefined;
}

/** The whole command, without commander: read, validate, allocate in chunks, write. */
export async function runAllocate(options: AllocateOptions, io: AllocateIo = {}): Promise<AllocateSummary> {
  const started = performance.now();
  const rule = getRule(options.rule);
  if (!rule) throw new AllocationInputError(`unknown rule "${options.rule}"; choose one of: ${ruleNames().join(', ')}`);
  const table = await loadShareTable(options);
  if (rule.needs === 'shares' && !table) throw new AllocationInputError(`rule ${rule.name} needs --shares or --coefficients`);
  if (rule.needs === 'coefficients' && !options.coefficients) throw new AllocationInputError(`rule ${rule.name} needs --coefficients`);
  if (rule.needs === 'nothing' && table) throw new AllocationInputError(`rule ${rule.name} takes no shares or coefficients`);
  if (options.redistribute && rule.name !== 'static-redistributed') throw new AllocationInputError(`--redistribute applies to static-redistributed only, not to ${rule.name}`);

  const progress = io.progress;
  let lastReport = 0;
  const report = (line: string, final = false) => {
    if (!progress) return;
    const now = performance.now();
    if (!final && now - lastReport < 500) return;
    lastReport = now;
    progress(line, final);
  };
  const inputName = basename(options.input);
  const { matrix, present, rows, hasPv } = await readIntervals(options.input, (p) => {
    if (options.progress === false || (options.progress === undefined && p.totalBytes < 5_000_000)) return;
    report(`reading ${inputName}: ${Math.floor((100 * p.bytesRead) / Math.max(1, p.totalBytes))}% (${p.lines.toLocaleString('en')} lines)`);
  }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new AllocationInputError(`input file ${options.input} does not exist`);
    throw error;
  });
  const showProgress = options.progress ?? rows > 100_000;

  const shares: ShareSchedule | undefined = table ? bindShares(table, matrix.memberIds) : undefined;
  const allocator = createAllocator(rule.name, { shares, redistribution: options.redistribute });
  const n = matrix.memberIds.length;
  const T = matrix.intervalStartMs.length;
  const bounds = chunkBoundaries(matrix.intervalStartMs, 96);
  let largest = 0;
  for (let c = 1; c < bounds.length; c++) largest = Math.max(largest, bounds[c]! - bounds[c - 1]!);
  const buffer = createResult(rule.name, n, largest);
  const totals = summaryBuilder(n);

  const tmp = `${options.out}.tmp-${process.pid}`;
  const writer = new ByteWriter(tmp);
  try {
    writer.bytes(Buffer.from(`${[...OUTPUT_HEADER, ...(hasPv ? ['self_consumed_wh'] : [])].join(',')}\n`));
    // Rows are assembled as bytes: ids and timestamps are encoded once, numbers digit by digit.
    const ids = matrix.memberIds.map((id) => Buffer.from(`${escapeField(id)},`));
    for (let c = 1; c < bounds.length; c++) {
      const from = bounds[c - 1]!;
      const to = bounds[c]!;
      const chunk = sliceMatrix(matrix, from, to);
      const result = allocator.allocate(chunk, resultView(buffer, rule.name, to - from));
      accumulate(totals, chunk, result);
      for (let t = 0; t < to - from; t++) {
        const stamp = Buffer.from(`${formatUtcInstant(chunk.intervalStartMs[t]!)},`);
        for (let i = 0; i < n; i++) {
          const k = t * n + i;
          if (!present[(from + t) * n + i]) continue;
          const imp = chunk.importWh[k]!;
          const exp = chunk.exportWh[k]!;
          const fromCommunity = result.fromCommunityWh[k]!;
          const toCommunity = result.toCommunityWh[k]!;
          writer.bytes(stamp);
          writer.bytes(ids[i]!);
          writer.uint(fromCommunity); writer.byte(COMMA);
          writer.uint(toCommunity); writer.byte(COMMA);
          writer.uint(imp - fromCommunity); writer.byte(COMMA);
          writer.uint(exp - toCommunity);
          if (hasPv) {
            writer.byte(COMMA);
            const pv = chunk.pvWh![k]!;
            if (pv >= 0) writer.uint(pv - exp);
          }
          writer.byte(10);
        }
        await writer.flushIfFull();
      }
      if (showProgress) report(`allocating (${rule.name}): ${Math.floor((100 * to) / T)}% of ${T.toLocaleString('en')} intervals`);
    }
    await writer.close();
    await rename(tmp, options.out);
  } catch (error) {
    await writer.abort();
    await rm(tmp, { force: true });
    throw error;
  }
  if (showProgress) report(`done: ${rows.toLocaleString('en')} rows, ${n} members, ${T} intervals`, true);

  const summary = finishSummary(totals);
  const known = new Set(matrix.memberIds);
  return {
    rule: rule.name,
    input: options.input,
    out: options.out,
    rows,
    members: n,
    intervals: T,
    firstInterval: T > 0 ? formatUtcInstant(matrix.intervalStartMs[0]!) : null,
    lastInterval: T > 0 ? formatUtcInstant(matrix.intervalStartMs[T - 1]!) : null,
    totals: {
      importWh: summary.importWh,
      exportWh: summary.exportWh,
      sharedWh: summary.sharedWh,
      fromGridWh: summary.fromGridWh,
      toGridWh: summary.toGridWh,
      selfConsumedWh: hasPv ? summary.selfConsumedWh : null,
    },
    selfSufficiency: summary.importWh > 0 ? summary.sharedWh / summary.importWh : null,
    sharedExportRate: summary.exportWh > 0 ? summary.sharedWh / summary.exportWh : null,
    membersWithoutData: table ? [...table.memberIds].filter((id) => !known.has(id)) : [],
    durationMs: Math.round(performance.now() - started),
  };
}

function parseYear(value: string): number {
  const year = Number(value);
  if (!/^\d{4}$/.test(value) || year < 1970 || year > 2200) throw new InvalidArgumentError('a year like 2025');
  return year;
}

function parseOffset(value: string): number {
  if (!/^[+-]?\d{1,2}$/.test(value)) throw new InvalidArgumentError('a whole number of hours, e.g. 1');
  return Number(value);
}

function formatSummary(s: AllocateSummary): string {
  const kwh = (wh: number) => `${(wh / 1000).toLocaleString('en', { maximumFractionDigits: 3 })} kWh`;
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
  const lines = [
    `Allocated ${s.rows.toLocaleString('en')} rows (${s.members} members × ${s.intervals} intervals, ${s.firstInterval} … ${s.lastInterval}) with rule ${s.rule} in ${(s.durationMs / 1000).toFixed(1)} s`,
    `  import ${kwh(s.totals.importWh)}, export ${kwh(s.totals.exportWh)}`,
    `  shared in the community ${kwh(s.totals.sharedWh)} (self-sufficiency ${pct(s.selfSufficiency)}, ${pct(s.sharedExportRate)} of the export)`,
    `  from grid ${kwh(s.totals.fromGridWh)}, to grid ${kwh(s.totals.toGridWh)}`,
  ];
  if (s.totals.selfConsumedWh !== null) lines.push(`  own PV used ${kwh(s.totals.selfConsumedWh)}`);
  if (s.membersWithoutData.length > 0) lines.push(`  note: ${s.membersWithoutData.length} member(s) of the key have no rows: ${s.membersWithoutData.slice(0, 5).join(', ')}${s.membersWithoutData.length > 5 ? ', …' : ''}`);
  lines.push(`  written to ${s.out}`);
  return lines.join('\n');
}

export function registerAllocateCommand(program: Command): void {
  program
    .command('allocate')
    .description('Allocate community energy offline: an intervals CSV in, an allocation CSV out')
    .requiredOption('--input <file>', `intervals CSV: ${INPUT_HEADER.join(',')}[,pv_wh] (UTC ISO timestamps, whole Wh)`)
    .requiredOption('--rule <rule>', `allocation rule: ${ruleNames().join(', ')}`)
    .requiredOption('--out <file>', `allocation CSV to write: ${OUTPUT_HEADER.join(',')}`)
    .option('--shares <file>', 'share key CSV: member_id,share (decimal fractions, Σ ≤ 1)')
    .option('--coefficients <file>', 'coefficients: Spanish CUPS;hour;coefficient file, or member_id,hour_of_year_or_timestamp,coefficient')
    .option('--coefficients-year <year>', 'year of hour-of-year coefficients (default: from a <CAU>_<year>.txt file name)', parseYear)
    .addOption(new Option('--coefficients-resolution <minutes>', 'period of timestamped coefficients').choices(['15', '30', '60']))
    .option('--utc-offset <hours>', 'local time offset on 1 January for hour-of-year coefficients (Spain 1, Canaries 0)', parseOffset)
    .addOption(new Option('--redistribute <by>', 'static-redistributed: leftovers by shares or by consumption').choices(['shares', 'consumption']))
    .option('--json', 'print the summary as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts: {
      input: string; rule: string; out: string; shares?: string; coefficients?: string; coefficientsYear?: number;
      coefficientsResolution?: '15' | '30' | '60'; utcOffset?: number; redistribute?: 'shares' | 'consumption';
      json: boolean; quiet: boolean;
    }) => {
      const tty = process.stderr.isTTY === true;
      const summary = await runAllocate({
        input: opts.input,
        rule: opts.rule,
        out: opts.out,
        shares: opts.shares,
        coefficients: opts.coefficients,
        coefficientsYear: opts.coefficientsYear,
        coefficientsResolution: opts.coefficientsResolution === undefined ? undefined : (Number(opts.coefficientsResolution) as 15 | 30 | 60),
        utcOffset: opts.utcOffset,
        redistribute: opts.redistribute,
        progress: opts.quiet ? false : undefined,
      }, {
        progress: (line, final) => process.stderr.write(tty ? `\r\x1b[2K${line}${final ? '\n' : ''}` : `${line}\n`),
      });
      process.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\n`);
    });
}
