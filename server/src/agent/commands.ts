import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { parseClaim } from './domain/claim.js';
import type { Heartbeat } from './domain/health.js';
import { readConfigFile, storePath, updateAgentSection } from './config-file.js';
import { OutboxStore } from './store.js';
import { startAgent } from './agent.js';

const DEFAULT_CONFIG = existsSync('/var/lib/gridshare-agent/agent.json') ? '/var/lib/gridshare-agent/agent.json' : 'agent.json';

/**
 * `gridshare agent`: the device side, on a Raspberry Pi next to the meter. `gridshare agent
 * status` asks the running agent (its local page on loopback), or reads its queue when it is not
 * running.
 */
export function registerAgentCommand(program: Command): void {
  const agent = program
    .command('agent')
    .description('Run the device agent: read the meter on a serial port, keep readings locally, send them to the platform');

  agent
    .command('run', { isDefault: true })
    .description('run the agent (the default)')
    .option('--config <file>', 'agent.json: the device config.json from provisioning, with an "agent" section', DEFAULT_CONFIG)
    .option('--pair <claim>', 'the claim URL of the reader\'s QR sticker (or its code), shown on the local page for the member to claim the reader')
    .option('--no-web', 'no local page')
    .option('--no-mdns', 'do not advertise _gridshare._tcp on the LAN')
    .action(async (opts: { config: string; pair?: string; web: boolean; mdns: boolean }) => {
      const file = readConfigFile(opts.config);
      if (opts.pair !== undefined) {
        const claim = parseClaim(opts.pair, new URL(file.config.http.readingsUrl).hostname);
        updateAgentSection(file, (section) => { section.claimUrl = claim.url ?? claim.code; });
        process.stderr.write(`paired: claim code ${claim.code} is shown on the local page\n`);
      }
      const running = await startAgent(file, { web: opts.web ? undefined : { enabled: false }, mdns: opts.mdns });
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      await running.close();
    });

  agent
    .command('status')
    .description('show the running agent\'s health: uplink, queue, serial line')
    .option('--config <file>', 'agent.json', DEFAULT_CONFIG)
    .option('--json', 'print the status as JSON', false)
    .action(async (opts: { config: string; json: boolean }) => {
      const file = readConfigFile(opts.config);
      const web = file.config.agent.web;
      let status: Heartbeat | undefined;
      if (web.enabled) {
        try {
          const response = await fetch(`http://127.0.0.1:${web.port}/status.json`, { signal: AbortSignal.timeout(3_000) });
          if (response.ok) status = (await response.json()) as Heartbeat;
        } catch {
          // not running
        }
      }
      if (status === undefined) {
        const store = new OutboxStore(storePath(file), file.config.agent.store.maxBytes);
        const queue = store.stats();
        store.close();
        const offline = { running: false, deviceId: file.config.deviceId, queue: { ...queue, oldestAt: queue.oldestAtMs === undefined ? null : new Date(queue.oldestAtMs).toISOString() } };
        process.stdout.write(opts.json ? `${JSON.stringify(offline, null, 2)}\n` : `agent ${file.config.deviceId} is not running; ${queue.readings} readings in ${queue.messages} messages wait in its queue\n`);
        process.exitCode = 3;
        return;
      }
      process.stdout.write(opts.json ? `${JSON.stringify({ running: true, ...status }, null, 2)}\n` : `${formatStatus(status)}\n`);
    });
}

function formatStatus(s: Heartbeat): string {
  return [
    `agent ${s.deviceId} ${s.version}, up ${s.uptimeSeconds} s, log level ${s.logLevel}`,
    `  uplink: ${s.uplink.transport}, ${s.uplink.sentReadings} readings sent in ${s.uplink.sentMessages} messages, last ack ${s.uplink.lastAckAt ?? 'never'}${s.uplink.lastError ? `, last problem: ${s.uplink.lastError}` : ''}`,
    `  queue: ${s.queue.readings} readings in ${s.queue.messages} messages (${s.queue.bytes} bytes), oldest ${s.queue.oldestAt ?? '-'}, thinned ${s.queue.thinnedMessages}, dropped ${s.queue.droppedReadings} readings`,
    `  serial: ${s.serial.port ?? 'no port'} (${s.serial.profile}) ${s.serial.open ? 'open' : 'closed'}, last frame ${s.serial.lastFrameAt ?? 'never'}, ${s.serial.framesPerMinute} frames/min, ${s.serial.checksumErrors} checksum errors, ${s.serial.frameErrors} unreadable frames`,
  ].join('\n');
}
