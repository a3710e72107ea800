import type { Command } from 'commander';
import { apiClient, ndjsonLines, withServerOptions, type ServerOptions } from '../platform/cli/api-client.js';
import type { RotationResult, SecretsStatus } from './service.js';

type RotationLine = { progress: { table: string; rows: number } } | { rotation: RotationResult } | { error: string; message: string };

/** `gridshare secrets status` and `gridshare secrets rotate`, against a running server (a platform admin's API token). */
export function registerSecretsCommands(program: Command): void {
  const secrets = program.command('secrets').description('The master key that seals device and meter keys in the database');

  withServerOptions(secrets
    .command('status')
    .description('Show the master key ids and how many stored secrets each one sealed')
    .option('--json', 'print the status as JSON'))
    .action(async (options: ServerOptions & { json?: boolean }) => {
      const status = await apiClient(options).json<SecretsStatus>('GET', '/api/v1/secrets');
      if (options.json) {
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        return;
      }
      process.stdout.write(`active master key ${status.activeKeyId} (from ${status.source}); keys held: ${status.keyIds.join(', ')}\n`);
      for (const table of status.tables) {
        const parts = Object.entries(table.byKey).map(([key, n]) => `${n} under ${key}`);
        process.stdout.write(`  ${table.table}: ${parts.length > 0 ? parts.join(', ') : 'empty'}\n`);
      }
    });

  withServerOptions(secrets
    .command('rotate')
    .description('Seal every stored secret again under a new master key while the server keeps running. With a key file, the server '
      + 'writes the new key into it and retires the old one when done; with GRIDSHARE_SECRET_KEY, first put the new key in front '
      + '(GRIDSHARE_SECRET_KEY=<new>,<old>) on every process and restart them, then run this, then drop the old key')
    .option('--json', 'print the result as JSON'))
    .action(async (options: ServerOptions & { json?: boolean }) => {
      const response = await apiClient(options).request('POST', '/api/v1/secrets/rotate', undefined, 'application/x-ndjson');
      let result: RotationResult | undefined;
      for await (const line of ndjsonLines<RotationLine>(response)) {
        if ('progress' in line) process.stderr.write(`sealing again: ${line.progress.table}, ${line.progress.rows} rows\n`);
        else if ('rotation' in line) result = line.rotation;
        else throw new Error(`${line.message} (${line.error})`);
      }
      if (!result) throw new Error('the server ended the answer without a result');
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      const rows = Object.entries(result.resealed).map(([table, n]) => `${n} in ${table}`).join(', ');
      process.stdout.write(`every secret is now sealed with master key ${result.activeKeyId} (${rows}; keys from ${result.source})\n`);
      if (result.retiredKeyIds.length > 0) {
        process.stdout.write(result.source.includes('environment')
          ? `no secret needs ${result.retiredKeyIds.join(', ')} any more: remove ${result.retiredKeyIds.length > 1 ? 'them' : 'it'} from GRIDSHARE_SECRET_KEY\n`
          : `retired ${result.retiredKeyIds.join(', ')}\n`);
      }
    });
}
