import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DomainError } from '../kernel/errors.js';
import { formatFixed } from '../kernel/decimal.js';
import { readBankStatement } from './sepa/camt053.js';
import { defaultSepaSchemaDirectory, loadSepaSchemas, SEPA_SCHEMA_DIRECTORY_VARIABLE, SEPA_SCHEMA_VERSIONS, type SepaSchemaVersion } from './sepa/schemas.js';

/**
 * `gridshare sepa check <file>`: validates a pain.001, pain.008 or camt.053 file offline against
 * the official ISO 20022 XSD of its version (the one its namespace names) and summarises it — for
 * a bank statement, its booked transactions. For the manager who wants to know whether a file
 * will pass the bank before uploading it, and for an operator checking a bank's export.
 */
export interface SepaCheck {
  readonly version: SepaSchemaVersion;
  readonly transactions: number;
  /** pain: the control sum; camt: booked credits and debits. */
  readonly totals: Readonly<Record<string, string>>;
}

export function checkSepaFile(xml: string, schemaDirectory: string): SepaCheck {
  const namespace = /xmlns\s*=\s*["']urn:iso:std:iso:20022:tech:xsd:([a-z]{4}\.\d{3}\.\d{3}\.\d{2})["']/.exec(xml.slice(0, 4096))?.[1];
  const version = SEPA_SCHEMA_VERSIONS.find((v) => v === namespace);
  if (!version) throw new Error(`not a supported SEPA file: its namespace names ${namespace ?? 'nothing'} (supported: ${SEPA_SCHEMA_VERSIONS.join(', ')})`);
  const schemas = loadSepaSchemas(schemaDirectory);
  try {
    if (!schemas.versions.includes(version)) throw new Error(`no ${version}.xsd in ${schemaDirectory}`);
    schemas.validate(xml, version);
  } finally {
    schemas.dispose();
  }
  if (version.startsWith('camt')) {
    const statement = readBankStatement(xml);
    const sum = (direction: 'credit' | 'debit') => formatFixed(statement.transactions.filter((t) => t.direction === direction).reduce((s, t) => s + t.amountCents, 0n), 2);
    return { version, transactions: statement.transactions.length, totals: { booked_credits: sum('credit'), booked_debits: sum('debit'), not_booked_entries: String(statement.notBooked) } };
  }
  const count = /<NbOfTxs>(\d+)<\/NbOfTxs>/.exec(xml)?.[1] ?? '0';
  const control = /<CtrlSum>([\d.]+)<\/CtrlSum>/.exec(xml)?.[1] ?? '0';
  return { version, transactions: Number(count), totals: { control_sum: control } };
}

export function registerSepaCommands(program: Command): void {
  const sepa = program.command('sepa').description('SEPA payment files (pain.001, pain.008) and bank statements (camt.053)');
  sepa
    .command('check <file>')
    .description('Validate a pain.001/pain.008/camt.053 file against the official ISO 20022 XSD of its version and summarise it; "-" reads stdin')
    .option('--xsd <dir>', `directory with the <version>.xsd files (default: $${SEPA_SCHEMA_DIRECTORY_VARIABLE}, else the ISO originals in server/src/billing/sepa/iso20022, else ../shared/sepa)`)
    .option('--json', 'print the result as JSON')
    .action((file: string, options: { xsd?: string; json?: boolean }) => {
      const directory = options.xsd ?? defaultSepaSchemaDirectory();
      if (!directory) {
        process.stderr.write(`error: no ISO 20022 schemas: give --xsd <dir> or set ${SEPA_SCHEMA_DIRECTORY_VARIABLE} (see server/src/billing/README.md)\n`);
        process.exit(2);
      }
      try {
        const result = checkSepaFile(readFileSync(file === '-' ? 0 : file, 'utf8'), directory);
        process.stdout.write(options.json
          ? `${JSON.stringify(result, null, 2)}\n`
          : `${result.version}: valid, ${result.transactions} transactions; ${Object.entries(result.totals).map(([k, v]) => `${k.replace(/_/g, ' ')} ${v}`).join(', ')}\n`);
      } catch (error) {
        process.stderr.write(`error: ${(error as Error).message}\n`);
        process.exit(error instanceof DomainError ? 2 : 1);
      }
    });
}
