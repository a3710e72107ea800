import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Command, InvalidArgumentError } from 'commander';
import { apiClient, ndjsonLines, progressBar, withServerOptions, type ServerOptions } from '../platform/cli/api-client.js';
import { ConnectionStringError, parseConnectionString } from './connection-string.js';
import { deviceResource, MAX_TOKEN_LIFETIME_S, signSasToken } from './sas.js';
import type { Batch, RollbackResult } from './service.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number above 0');
  return n;
}

type ProgressLine = { progress: { phase: string; done: number; total: number } } | { batch: Batch } | { error: string; message: string };

/** `gridshare provision`, `gridshare rollback` and `gridshare token`. */
export function registerProvisioningCommands(program: Command): void {
  withServerOptions(program
    .command('provision')
    .description('Provision a batch of devices on a running Gridshare and download its artefacts ZIP (and its sticker sheet)')
    .requiredOption('--community <id>', 'community id')
    .option('--count <n>', 'how many devices', positiveInt, 2)
    .option('--kind <kind>', 'device kind', 'meter-reader')
    .option('--name <name>', 'the batch\'s name, 1 to 80 characters (default: "Batch n" in the community\'s language)')
    .requiredOption('--out <file>', 'where to write the ZIP (config files, QR codes, manifest)')
    .option('--stickers <file.pdf>', 'also write the A4 sticker sheet (QR code, claim code and device id per device)')
    .option('--json', 'print the batch as JSON'))
    .action(async (options: ServerOptions & { community: string; count: number; kind: string; name?: string; out: string; stickers?: string; json?: boolean }) => {
      const api = apiClient(options);
      const response = await api.request('POST', `/api/v1/communities/${options.community}/device-batches`,
        { count: options.count, kind: options.kind, ...(options.name === undefined ? {} : { name: options.name }) }, 'application/x-ndjson');
      const bar = progressBar('provisioning');
      let batch: Batch | undefined;
      for await (const line of ndjsonLines<ProgressLine>(response)) {
        if ('progress' in line) bar.update(line.progress.done, line.progress.total, line.progress.phase);
        else if ('batch' in line) batch = line.batch;
        else throw new Error(`${line.message} (${line.error})`);
      }
      bar.done();
      if (!batch) throw new Error('the server ended the answer without a batch');
      const zip = Buffer.from(await (await api.request('GET', `/api/v1/device-batches/${batch.id}/artefacts.zip`, undefined, 'application/zip')).arrayBuffer());
      await writeFile(options.out, zip);
      if (options.stickers) {
        const sheet = await api.request('GET', `/api/v1/device-batches/${batch.id}/stickers.pdf`, undefined, 'application/pdf');
        // Streamed to the file as the server draws it: thousands of stickers are megabytes. Node's web
        // streams are async iterable; the DOM typings (the browser tests compile this too) do not say so.
        await pipeline(sheet.body! as unknown as AsyncIterable<Uint8Array>, createWriteStream(options.stickers));
      }
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ ...batch, zip: options.out, ...(options.stickers ? { stickers: options.stickers } : {}) }, null, 2)}\n`);
      } else {
        process.stdout.write(`batch ${batch.id} "${batch.name}": ${batch.size} devices, artefacts in ${options.out} (${zip.length} bytes)\n`);
        if (options.stickers) process.stdout.write(`sticker sheet in ${options.stickers}\n`);
      }
    });

  withServerOptions(program
    .command('rollback <batch-id>')
    .description('Remove a batch: devices, keys, claim codes, artefacts (claimed devices and devices with readings stay unless --force)')
    .option('--force', 'also remove claimed devices and devices with readings')
    .option('--json', 'print the result as JSON'))
    .action(async (batchId: string, options: ServerOptions & { force?: boolean; json?: boolean }) => {
      const result = await apiClient(options).json<RollbackResult>('POST', `/api/v1/device-batches/${batchId}/rollback`, { force: options.force ?? false });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      process.stdout.write(`removed ${result.removed.length} device(s); batch is ${result.status}\n`);
      for (const kept of result.kept) process.stdout.write(`kept ${kept.deviceId}: ${kept.reason}\n`);
    });

  program
    .command('token')
    .description('Print a SAS token (MQTT password / HTTP Authorization) for a device connection string')
    .requiredOption('--connection-string <cs>', 'HostName=…;DeviceId=…;SharedAccessKey=…')
    .option('--ttl <seconds>', 'how long the token is valid', positiveInt, 3600)
    .option('--json', 'print {token, expiresAt, deviceId}')
    .action((options: { connectionString: string; ttl: number; json?: boolean }) => {
      let cs;
      try {
        cs = parseConnectionString(options.connectionString);
      } catch (error) {
        if (!(error instanceof ConnectionStringError)) throw error;
        process.stderr.write(`gridshare token: ${error.message}\n`);
        process.exit(2);
      }
      if (options.ttl > MAX_TOKEN_LIFETIME_S) {
        process.stderr.write(`gridshare token: --ttl is at most ${MAX_TOKEN_LIFETIME_S} s\n`);
        process.exit(2);
      }
      const expiresAt = new Date(Date.now() + options.ttl * 1000);
      const token = signSasToken({ resource: deviceResource(cs.hostName, cs.deviceId), key: cs.sharedAccessKey, expiresAt });
      process.stdout.write(options.json ? `${JSON.stringify({ token, expiresAt: expiresAt.toISOString(), deviceId: cs.deviceId })}\n` : `${token}\n`);
    });
}
