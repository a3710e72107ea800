import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import './kinds/index.js';
import { getKind, kindNames } from './registry.js';
import { secretPaths } from './schema.js';
import { testConnector, type TestReport } from './harness.js';

/**
 * `gridshare connector kinds` lists the connector kinds and their configuration schemas;
 * `gridshare connector test` is the dry run a manager's form will offer: connect, read once,
 * print the first readings or the precise error, store and move nothing. One read takes
 * seconds at most: there is no progress to show.
 */
async function readConfig(path: string): Promise<unknown> {
  let text: string;
  if (path === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
    text = Buffer.concat(chunks).toString('utf8');
  } else {
    text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new Error(error.code === 'ENOENT' ? `configuration file ${path} does not exist` : `cannot read ${path}: ${error.message}`);
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${path} is not JSON: ${(error as Error).message}`);
  }
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number above 0');
  return n;
}

export function formatTestReport(report: TestReport): string {
  if (report.error && report.readings.length === 0) {
    return [`${report.kind}: failed after ${report.durationMs} ms (${report.error.code}): ${report.error.message}`, ...details(report)].join('\n');
  }
  const width = Math.max(6, ...report.readings.map((r) => r.target.length));
  const qWidth = Math.max(8, ...report.readings.map((r) => r.quantity.length));
  return [
    `${report.kind}: ${report.readings.length} reading${report.readings.length === 1 ? '' : 's'} in ${report.durationMs} ms (nothing stored)`,
    ...details(report),
    '',
    `${'target'.padEnd(width)}  ${'time (UTC)'.padEnd(24)}  ${'quantity'.padEnd(qWidth)}  value`,
    ...report.readings.map((r) => `${r.target.padEnd(width)}  ${r.ts.padEnd(24)}  ${r.quantity.padEnd(qWidth)}  ${r.value} ${r.unit}`),
    ...(report.problems.length > 0 ? ['', `${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}:`, ...report.problems.map((p) => `  ${p.where}: ${p.message}`)] : []),
  ].join('\n');
}

function details(report: TestReport): string[] {
  return Object.entries(report.details).map(([key, value]) => `  ${key}: ${value}`);
}

export function registerConnectorCommands(program: Command): void {
  const connector = program.command('connector').description('Connectors: Modbus TCP (SunSpec and register maps), CSV files (local, FTP, SFTP), HTTP JSON APIs, SQL databases');
  connector
    .command('kinds')
    .description('List the connector kinds; with --json also their configuration schemas (secrets are the writeOnly fields)')
    .option('--json', 'print the kinds and their schemas as JSON', false)
    .action((opts: { json: boolean }) => {
      const kinds = kindNames().map((name) => getKind(name)!);
      if (opts.json) {
        const described = kinds.map((k) => ({ name: k.name, summary: k.summary, configSchema: k.configSchema, commandSchema: k.commandSchema ?? null, secrets: secretPaths(k.configSchema), defaultTimeoutMs: k.defaultTimeoutMs }));
        process.stdout.write(`${JSON.stringify(described, null, 2)}\n`);
        return;
      }
      const width = Math.max(...kinds.map((k) => k.name.length));
      process.stdout.write(`${kinds.map((k) => `${k.name.padEnd(width)}  ${k.summary}`).join('\n')}\n`);
    });
  connector
    .command('test')
    .description('Dry run: connect, read once and print the first mapped readings or the precise error; nothing is stored, no file is renamed')
    .requiredOption('--kind <kind>', `connector kind: ${kindNames().join(', ')}`)
    .requiredOption('--config <file>', 'the configuration as JSON ("-" reads stdin); see `gridshare connector kinds --json`')
    .option('--limit <n>', 'readings to show', positive, 20)
    .option('--timeout <ms>', 'give up after this many milliseconds (default: the kind\'s own)', positive)
    .option('--json', 'print the report as JSON', false)
    .action(async (opts: { kind: string; config: string; limit: number; timeout?: number; json: boolean }) => {
      const report = await testConnector(opts.kind, await readConfig(opts.config), { limit: opts.limit, timeoutMs: opts.timeout });
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatTestReport(report)}\n`);
      if (!report.ok) process.exitCode = 1;
    });
}
