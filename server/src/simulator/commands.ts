/**
 * `gridshare simulate`: impersonates a street of devices over real MQTT, each authenticating
 * with a SAS token signed from its connection string.
 *
 * The runner and the mqtt client are loaded only when the command runs, so the rest of the CLI
 * does not pay for them (the CLI imports this without loading them).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseConnectionString, deviceResource, signSasToken } from '../provisioning/index.js';
import { parseDevicesFile, type DeviceEntry } from './devices-file.js';
import type { SimulationStats } from './run.js';

/** SAS tokens are re-signed at every (re)connect, so a short lifetime costs nothing. */
const TOKEN_LIFETIME_MS = 60 * 60_000;

function positiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('must be a positive number');
  return number;
}

function integer(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new InvalidArgumentError('must be a whole number');
  return number;
}

function instant(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime()) || !/(Z|[+-]\d{2}:\d{2})$/.test(value)) throw new InvalidArgumentError('must be an ISO 8601 instant with Z or an offset');
  return date;
}

/**
 * The device's MQTT password: a SAS token signed with the key in its connection string, fresh
 * at every call (the runner calls it at every connect and reconnect).
 */
export function sasPassword(entry: DeviceEntry): () => string {
  const parsed = parseConnectionString(entry.connectionString);
  if (parsed.deviceId !== entry.deviceId) throw new Error(`${entry.deviceId}: its connection string is for device ${parsed.deviceId}`);
  const resource = deviceResource(parsed.hostName, parsed.deviceId);
  return () => signSasToken({ resource, key: parsed.sharedAccessKey, expiresAt: new Date(Date.now() + TOKEN_LIFETIME_MS) });
}

function statusLine(stats: SimulationStats, speed: number): string {
  const mode = stats.realTime || speed <= 1 ? 'real time' : `replaying ×${speed}`;
  return `${stats.simulatedTime}  ${mode}  connected ${stats.connected}/${stats.devices}  sent ${stats.published}  acked ${stats.acknowledged}  failed ${stats.failed}`;
}

/** `signal` stops the run like Ctrl-C does (for embedding and tests). */
export function registerSimulateCommand(program: Command, embedding: { signal?: AbortSignal } = {}): void {
  program
    .command('simulate')
    .description('Publish realistic readings as the devices of a street (households, PV, library, community battery) over MQTT')
    .addOption(new Option('--mqtt-url <url>', 'MQTT broker, e.g. mqtt://localhost:1883').env('MQTT_URL').makeOptionMandatory())
    .requiredOption('--devices <file>', 'JSON list of { deviceId, connectionString, site, readings? } (readings: all, grid or pv; devices sharing a site describe it alike)')
    .addOption(new Option('--speed <n>', 'simulated seconds per real second until simulated time reaches now').argParser(positiveNumber).default(1))
    .addOption(new Option('--interval-ms <n>', 'real time between two messages of a device').argParser(positiveNumber).default(5000))
    .addOption(new Option('--seed <n>', 'random seed: the same seed gives the same readings').argParser(integer).default(1))
    .addOption(new Option('--start <instant>', 'first simulated instant (default: now, or 24 h ago with --speed > 1)').argParser(instant))
    .addOption(new Option('--anchor <instant>', 'simulate meter history from this instant (earlier runs with another anchor report other register values)').argParser(instant))
    .option('--json', 'print the final counters as JSON', false)
    .addHelpText('after', `
Simulated time never runs ahead of the wall clock (the platform refuses future readings): it
starts in the past and runs --speed times faster until it reaches now, then in real time.
Meter registers continue across restarts: the same seed gives the same value at the same instant.
Stop with Ctrl-C.`)
    .action(async (options: { mqttUrl: string; devices: string; speed: number; intervalMs: number; seed: number; start?: Date; anchor?: Date; json: boolean }) => {
      const file = resolve(options.devices);
      let entries: DeviceEntry[];
      try {
        entries = parseDevicesFile(await readFile(file, 'utf8'));
      } catch (error) {
        throw new Error(`${file}: ${(error as Error).message}`);
      }
      const devices = entries.map((entry) => ({ deviceId: entry.deviceId, site: entry.site, ...(entry.readings ? { readings: entry.readings } : {}), password: sasPassword(entry) }));
      const { runSimulation } = await import('./run.js');
      const controller = new AbortController();
      const stop = () => controller.abort();
      if (embedding.signal?.aborted) stop();
      embedding.signal?.addEventListener('abort', stop, { once: true });
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);

      const err = (line: string) => process.stderr.write(`${line}\n`);
      let latest: SimulationStats | undefined;
      const progress = setInterval(() => latest && err(statusLine(latest, options.speed)), 5000);
      const lastErrors = new Map<string, string>();
      err(`Simulating ${entries.length} devices against ${options.mqttUrl} (seed ${options.seed}); preparing meter history…`);
      try {
        const stats = await runSimulation({
          mqttUrl: options.mqttUrl,
          devices,
          intervalMs: options.intervalMs,
          speed: options.speed,
          seed: options.seed,
          ...(options.start ? { start: options.start } : {}),
          ...(options.anchor ? { anchor: options.anchor } : {}),
          signal: controller.signal,
          onPublish: (stats) => (latest = stats),
          onError: (deviceId, error) => {
            // The same error every reconnect attempt is noise: report changes only.
            if (lastErrors.get(deviceId) === error.message) return;
            lastErrors.set(deviceId, error.message);
            err(`${deviceId}: ${error.message}`);
          },
        });
        err(`stopped: ${statusLine(stats, options.speed)}`);
        if (options.json) process.stdout.write(`${JSON.stringify(stats)}\n`);
      } finally {
        clearInterval(progress);
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        embedding.signal?.removeEventListener('abort', stop);
      }
    });
}
