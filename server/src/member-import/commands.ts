import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DomainError } from '../kernel/errors.js';
import { planMemberImport, type ImportPlan } from './domain/member-csv.js';

/**
 * `gridshare members check <file.csv>`: the import's dry run, offline — what the file would
 * create and every error by line and column, before anything is sent to a community.
 */
export function describePlan(plan: ImportPlan): string {
  const lines = [
    `${plan.rows} rows: ${plan.members.length} members, ${plan.points.length} metering points, ${plan.errors.length} errors`,
    ...plan.errors.map((e) => `  ${e.line === 0 ? 'file' : `line ${e.line}`}${e.column ? `, ${e.column}` : ''}: ${e.message}`),
  ];
  if (plan.errors.length > 0 && plan.validMembers.length > 0) lines.push(`${plan.validMembers.length} members have only valid rows`);
  return lines.join('\n');
}

export function registerMemberImportCommands(program: Command): void {
  const members = program.command('members').description('Members of a community');
  members
    .command('check <file>')
    .description('Dry run of a bulk import of members and metering points from CSV (format: server/src/member-import/README.md); exits 3 when a row has an error')
    .option('--json', 'print the plan as JSON')
    .action((file: string, options: { json?: boolean }) => {
      try {
        const plan = planMemberImport(readFileSync(file === '-' ? 0 : file, 'utf8'));
        process.stdout.write(`${options.json ? JSON.stringify(plan, null, 2) : describePlan(plan)}\n`);
        if (plan.errors.length > 0) process.exitCode = 3;
      } catch (error) {
        process.stderr.write(`error: ${(error as Error).message}\n`);
        process.exit(error instanceof DomainError ? 2 : 1);
      }
    });
}
