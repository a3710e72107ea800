import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { pipeline } from 'node:stream';
import { basename } from 'node:path';
import { Command } from 'commander';
import { CsvError, parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import { BadRequestError } from '../kernel/errors.js';
import { compileRuleSet, createMasker, exportSchemaNames, getExportSchema, getMaskingRule, maskingRuleNames, MIN_SALT_BYTES, parseRuleSet, type MaskRow, type Masker } from './domain/index.js';

/**
 * `gridshare mask`: applies a masking rule set to an exported CSV file, offline — what a
 * manager runs on an allocation or regulator export before it leaves the community. The file
 * streams through (any size, memory bounded by one hour per series); the result goes to a
 * temporary file renamed into place, so a refused row leaves no partial output.
 */
export interface MaskOptions {
  readonly rules: string;
  readonly input: string;
  readonly out: string;
  /** The community's salt for `hash` rules. */
  readonly salt?: Uint8Array | undefined;
  /** The community's country (ISO 3166 alpha-2) for `postcode` rules. */
  readonly country?: string | undefined;
  /** Progress on stderr (default: on for inputs over 5 MB). */
  readonly progress?: boolean | undefined;
}

export interface MaskSummary {
  readonly ruleSet: string;
  readonly schema: string;
  readonly input: string;
  readonly out: string;
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly columnsIn: readonly string[];
  readonly columnsOut: readonly string[];
  /** Hours (with an hourly rule) summed from fewer than four quarter hours. */
  readonly incompleteHours: number;
  readonly durationMs: number;
}

export interface MaskIo {
  readonly progress?: ((line: string, final: boolean) => void) | undefined;
}

const MAX_RULES_BYTES = 1024 * 1024;

async function readText(path: string, what: string, limit: number): Promise<string> {
  const size = await stat(path).then((s) => s.size, (error: NodeJS.ErrnoException) => {
    throw new BadRequestError(error.code === 'ENOENT' ? `${what} ${path} does not exist` : `cannot read ${what} ${path}: ${error.message}`);
  });
  if (size > limit) throw new BadRequestError(`${what} ${path} is larger than ${limit} bytes`);
  return readFile(path, 'utf8');
}

/** A salt file holds the salt as hex (at least 32 digits), white space around it ignored. */
export async function readSaltFile(path: string): Promise<Uint8Array> {
  const text = (await readText(path, 'salt file', 4096)).trim();
  if (!/^([0-9a-fA-F]{2})+$/.test(text) || text.length < 2 * MIN_SALT_BYTES) {
    throw new BadRequestError(`salt file ${path} must hold at least ${MIN_SALT_BYTES} bytes as hex (${2 * MIN_SALT_BYTES} or more hex digits)`);
  }
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

export async function runMask(options: MaskOptions, io: MaskIo = {}): Promise<MaskSummary> {
  const started = performance.now();
  let json: unknown;
  try {
    json = JSON.parse(await readText(options.rules, 'rules file', MAX_RULES_BYTES));
  } catch (error) {
    if (error instanceof SyntaxError) throw new BadRequestError(`rules file ${options.rules} is not JSON: ${error.message}`);
    throw error;
  }
  const masking = compileRuleSet(parseRuleSet(json), { salt: options.salt, country: options.country?.toUpperCase() });
  const totalBytes = await stat(options.input).then((s) => s.size, (error: NodeJS.ErrnoException) => {
    throw new BadRequestError(error.code === 'ENOENT' ? `input file ${options.input} does not exist` : `cannot read ${options.input}: ${error.message}`);
  });
  const showProgress = io.progress !== undefined && (options.progress ?? totalBytes > 5_000_000);
  let lastReport = 0;

  const parser = parse({ bom: true, skip_empty_lines: true });
  // pipeline ends the file stream when the parser stops early (a refused row) and hands a read
  // error to the parser, where the loop below sees it; its own callback has nothing left to do.
  pipeline(createReadStream(options.input), parser, () => {});
  const tmp = `${options.out}.tmp-${process.pid}`;
  const out = createWriteStream(tmp);
  // A write error (disk full) surfaces at the next write or at the end; once the run has
  // failed, a late one from a destroyed stream has nothing left to tell.
  let writeError: Error | undefined;
  out.on('error', (error) => { writeError ??= error; });
  let masker: Masker | undefined;
  let columnsIn: string[] = [];
  let rowsIn = 0;
  let rowsOut = 0;
  let pending: string[][] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    rowsOut += pending.length;
    const text = stringify(pending);
    pending = [];
    if (writeError) throw writeError;
    if (!out.write(text)) await once(out, 'drain');
  };
  const emit = async (rows: MaskRow[]) => {
    for (const row of rows) pending.push(masker!.header.map((name) => row[name]!));
    if (pending.length >= 1000) await flush();
  };
  try {
    for await (const fields of parser as AsyncIterable<string[]>) {
      if (!masker) {
        columnsIn = fields.map((f) => f.trim());
        masker = createMasker(masking, columnsIn);
        if (!out.write(stringify([masker.header]))) await once(out, 'drain');
        continue;
      }
      rowsIn++;
      // csv-parse refuses rows of another length itself (with the line), before they get here.
      await emit(masker.push(Object.fromEntries(columnsIn.map((name, i) => [name, fields[i]!])), rowsIn));
      if (showProgress && performance.now() - lastReport > 500) {
        lastReport = performance.now();
        io.progress!(`masking ${basename(options.input)}: ${Math.floor((100 * (parser as unknown as { info: { bytes: number } }).info.bytes) / Math.max(1, totalBytes))}% (${rowsIn.toLocaleString('en')} rows)`, false);
      }
    }
    if (!masker) throw new BadRequestError(`input file ${options.input} is empty: expected a header line`);
    await emit(masker.end());
    await flush();
    out.end();
    await once(out, 'finish');
    if (writeError) throw writeError;
    await rename(tmp, options.out);
  } catch (error) {
    out.destroy();
    parser.destroy();
    await rm(tmp, { force: true });
    if (error instanceof CsvError) throw new BadRequestError(`${options.input}: ${error.message}`);
    throw error;
  }
  if (showProgress) io.progress!(`done: ${rowsIn.toLocaleString('en')} rows in, ${rowsOut.toLocaleString('en')} out`, true);
  return {
    ruleSet: masking.ruleSet.name,
    schema: masking.schema.name,
    input: options.input,
    out: options.out,
    rowsIn,
    rowsOut,
    columnsIn,
    columnsOut: masker.header,
    incompleteHours: masker.incompleteHours,
    durationMs: Math.round(performance.now() - started),
  };
}

function describeRulesAndSchemas(): string {
  const rules = maskingRuleNames().map((name) => `  ${name.padEnd(9)} ${getMaskingRule(name)!.summary}`);
  const schemas = exportSchemaNames().map((name) => {
    const schema = getExportSchema(name)!;
    return `  ${name}: ${schema.fields.map((f) => `${f.name} (${f.type}${f.optional ? ', optional' : ''})`).join(', ')}`;
  });
  return [
    '',
    'A rules file is JSON: {"name": "…", "schema": "allocation", "otherFields": "keep" | "drop",',
    '  "fields": {"member_id": "hash", "interval_start": "hourly"}}',
    '',
    'Rules:', ...rules, '',
    'Schemas (the columns an input file may have):', ...schemas,
  ].join('\n');
}

export function registerMaskCommand(program: Command): void {
  program
    .command('mask')
    .description('Mask personal data in an exported CSV file by a rule set (drop, hash, postcode, hourly)')
    .requiredOption('--rules <file>', 'masking rule set (JSON)')
    .requiredOption('--input <file>', 'CSV export to mask (its header names the columns)')
    .requiredOption('--out <file>', 'masked CSV to write')
    .option('--salt-file <file>', `the community's salt for "hash", as hex (at least ${MIN_SALT_BYTES} bytes); the same salt gives the same hashes in every export`)
    .option('--country <code>', 'the community\'s country for "postcode" (AT, BE, CH, DE, ES, FR, IT, NL)')
    .option('--json', 'print the summary as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .addHelpText('after', describeRulesAndSchemas)
    .action(async (opts: { rules: string; input: string; out: string; saltFile?: string; country?: string; json: boolean; quiet: boolean }) => {
      const tty = process.stderr.isTTY === true;
      const summary = await runMask({
        rules: opts.rules,
        input: opts.input,
        out: opts.out,
        salt: opts.saltFile === undefined ? undefined : await readSaltFile(opts.saltFile),
        country: opts.country,
        progress: opts.quiet ? false : undefined,
      }, {
        progress: (line, final) => process.stderr.write(tty ? `\r\x1b[2K${line}${final ? '\n' : ''}` : `${line}\n`),
      });
      process.stdout.write(opts.json
        ? `${JSON.stringify(summary, null, 2)}\n`
        : `Masked ${summary.rowsIn.toLocaleString('en')} rows into ${summary.rowsOut.toLocaleString('en')} with rule set "${summary.ruleSet}" (${summary.schema}) in ${(summary.durationMs / 1000).toFixed(1)} s\n  columns: ${summary.columnsOut.join(', ')}\n${summary.incompleteHours > 0 ? `  note: ${summary.incompleteHours.toLocaleString('en')} hour(s) summed from fewer than four quarter hours\n` : ''}  written to ${summary.out}\n`);
    });
}
