import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld } from '../support/world.js';
import { freePort, GRIDSHARE_BIN, runGridshare, type RunningGridshare } from '../support/process.js';
import { meterProfile } from '../../src/agent/domain/profiles.js';
import { decodeFrame } from '../../src/meters/index.js';
import { dsmrTelegramAt } from '../meters/telegrams.js';
import { closePort, openMeter, ptyPair, send, socatMissing, type PtyPair } from './support/meter-line.js';
import { until, writeAgentConfig } from './support/agents.js';

const TELEGRAMS = 527;
// What the platform's own DSMR decoder yields for one telegram (registers plus the tariff totals).
const READINGS_PER_TELEGRAM = decodeFrame(dsmrTelegramAt(new Date(Date.UTC(2026, 0, 1)), 4_426), { format: 'dsmr', receivedAt: new Date() }).readings.length;

describe.skipIf(socatMissing)('an outage as long as 10,000 readings, with kill -9 in the middle', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  it('delivers every reading exactly once, in order per register, once the platform is reachable again', async () => {
    const tp: TestPlatform = await startTestPlatform('pglite');
    cleanups.push(() => tp.close());
    const w = await buildWorld(tp);
    const dir = mkdtempSync(join(tmpdir(), 'gridshare-outage-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const device = w.provisionedA;
    const webPort = await freePort();
    // Nothing listens here: MQTT and the HTTP fallback are both refused, as in a dead uplink.
    const refused = await freePort();
    const line = meterProfile('dsmr-p1')!.line;
    const agentSection = (pair: PtyPair) => ({
      meter: { port: pair.agentPath, profile: 'dsmr-p1' },
      web: { enabled: true, host: '127.0.0.1', port: webPort },
      uplink: { drainReadingsPerSecond: 4_000, httpFallbackAfterSeconds: 1 },
      mdns: false,
    });
    const status = async () => {
      try {
        const response = await fetch(`http://127.0.0.1:${webPort}/status.json`);
        return response.ok ? ((await response.json()) as { serial: { open: boolean }; queue: { messages: number; readings: number }; uplink: { transport: string; lastError: string | null } }) : undefined;
      } catch {
        return undefined;
      }
    };
    const start = (config: string): RunningGridshare => {
      const running = runGridshare(['agent', '--config', config, '--no-mdns']);
      cleanups.push(async () => { running.child.kill('SIGKILL'); await running.exited; });
      return running;
    };

    const base = Math.floor(Date.now() / 1000) * 1000 - (TELEGRAMS * 10 + 120) * 1000;
    const telegram = (i: number) => dsmrTelegramAt(new Date(base + i * 10_000), 10_000 + i * 7);

    // 1. The uplink is dead; the meter talks; the agent keeps everything, then dies by kill -9.
    const firstPair = await ptyPair();
    cleanups.push(() => firstPair.close());
    const firstConfig = await writeAgentConfig(tp, w.managerA.token, device, dir, agentSection(firstPair), { mqttUrl: `mqtt://127.0.0.1:${refused}`, httpBase: `http://127.0.0.1:${refused}` });
    const first = start(firstConfig);
    await until('the first agent to open the line', async () => (await status())?.serial.open, 60_000);
    const meter = await openMeter(firstPair.meterPath, line);
    let written = 0;
    while (written < TELEGRAMS) {
      await send(meter, Buffer.concat(Array.from({ length: 10 }, (_, k) => telegram(written + k)).slice(0, TELEGRAMS - written)));
      written = Math.min(TELEGRAMS, written + 10);
      const now = await status();
      if ((now?.queue.messages ?? 0) >= 250) break;
    }
    const beforeKill = (await status())!;
    expect(beforeKill.uplink.transport).toBe('offline');
    expect(beforeKill.uplink.lastError).toMatch(/ECONNREFUSED|fetch failed|connect/);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    await closePort(meter);

    // What the killed agent had committed is all in its queue, a gap-free prefix of what the meter sent.
    const queue = new Database(join(dir, 'agent-queue.db'), { readonly: true });
    const queued = (queue.prepare('SELECT payload FROM outbox ORDER BY seq').all() as { payload: Buffer }[])
      .map((row) => (JSON.parse(row.payload.toString()) as { quantity: string; ts: string }[]).find((r) => r.quantity === 'energy.import.t1')!.ts);
    queue.close();
    const kept = queued.length;
    expect(kept).toBeGreaterThanOrEqual(250);
    expect(kept).toBeLessThan(TELEGRAMS);
    expect(queued).toEqual(Array.from({ length: kept }, (_, i) => new Date(base + i * 10_000).toISOString()));

    const offline = spawnSync(process.execPath, [GRIDSHARE_BIN, 'agent', 'status', '--config', firstConfig, '--json'], { encoding: 'utf8', env: { ...process.env, DATABASE_URL: '' } });
    expect(offline.status).toBe(3);
    expect(JSON.parse(offline.stdout)).toMatchObject({ running: false, queue: { messages: kept, readings: kept * READINGS_PER_TELEGRAM } });

    // 2. Back on a new line (the adapter replugged) with the platform reachable: the rest of the
    //    meter's telegrams come in while the backlog drains.
    const secondPair = await ptyPair();
    cleanups.push(() => secondPair.close());
    const secondConfig = await writeAgentConfig(tp, w.managerA.token, device, dir, agentSection(secondPair));
    expect(secondConfig).toBe(firstConfig);
    const second = start(secondConfig);
    await until('the second agent to open the line', async () => (await status())?.serial.open, 60_000);
    const meterAgain = await openMeter(secondPair.meterPath, line);
    cleanups.push(() => closePort(meterAgain));
    for (let i = kept; i < TELEGRAMS; i += 20) {
      await send(meterAgain, Buffer.concat(Array.from({ length: Math.min(20, TELEGRAMS - i) }, (_, k) => telegram(i + k))));
    }
    await until('every reading on the platform', async () => {
      const rows = await tp.platform.db.query<{ n: string }>('SELECT count(*) AS n FROM readings WHERE device_id = $1', [device]);
      return Number(rows[0]!.n) === TELEGRAMS * READINGS_PER_TELEGRAM || undefined;
    }, 90_000);
    await until('the agent\'s queue to empty', async () => (await status())?.queue.messages === 0 || undefined);

    const running = spawnSync(process.execPath, [GRIDSHARE_BIN, 'agent', 'status', '--config', secondConfig], { encoding: 'utf8', env: { ...process.env, DATABASE_URL: '' } });
    expect(running.status).toBe(0);
    expect(running.stdout).toMatch(/uplink: mqtt, \d+ readings sent/);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    // Exactly once: every register value of every telegram, no duplicate ever reached the platform.
    const t1 = await tp.platform.db.query<{ ts: Date; value: number }>("SELECT ts, value FROM readings WHERE device_id = $1 AND quantity = 'energy.import.t1' ORDER BY ts", [device]);
    expect(t1.map((r) => [r.ts.getTime(), r.value])).toEqual(Array.from({ length: TELEGRAMS }, (_, i) => [base + i * 10_000, 10_000 + i * 7]));
    const state = await tp.platform.db.query<{ duplicates_total: string | number; rejected_total: string | number }>('SELECT duplicates_total, rejected_total FROM device_state WHERE device_id = $1', [device]);
    expect([Number(state[0]!.duplicates_total), Number(state[0]!.rejected_total)]).toEqual([0, 0]);
    // In order per register: arrival (commit) order follows the meter's time for every quantity.
    const arrivals = await tp.platform.db.query<{ quantity: string; ts: Date; received_at: Date }>('SELECT quantity, ts, received_at FROM readings WHERE device_id = $1 ORDER BY quantity, ts', [device]);
    const outOfOrder = arrivals.filter((r, i) => i > 0 && arrivals[i - 1]!.quantity === r.quantity && arrivals[i - 1]!.received_at.getTime() > r.received_at.getTime());
    expect(outOfOrder).toEqual([]);

    // And the platform made quarter hours of it from the registers: tariff 1 rises 7 Wh every
    // 10 s, 630 Wh in each quarter hour (the 244 W power sample is not what energy is made of).
    await tp.platform.intervals.flush();
    const from = Math.ceil(base / 900_000) * 900_000;
    const intervals = await tp.call('GET', `/api/v1/metering-points/${w.meteringPointA}/intervals?from=${new Date(from).toISOString()}&to=${new Date(from + 4 * 900_000).toISOString()}`, { token: w.memberA.token });
    expect(intervals.body.map((i: { importWh: number }) => i.importWh)).toEqual([630, 630, 630, 630]);
  }, 120_000);
});
