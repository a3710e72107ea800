import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sessionCookie, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { DEMO_MANAGER_EMAIL, DEMO_PASSWORD, ensureDemoCommunity } from '../../src/demo/seed.js';
import { startDemoSimulation } from '../../src/demo/simulation.js';
import { until } from '../agent/support/agents.js';

/**
 * Household 1's battery, EV charger, heat pump and washing machine run as `gridshare agent`s
 * whose local device is the simulator's model (kind `simulated`): a manager's commands go
 * through the real broker to the agent, which checks them, hands them to the model and answers;
 * what the devices then do comes back through the agent's queue as readings.
 */
describe('the demo\'s controlled devices answer through the agent', () => {
  let tp: TestPlatform;
  let communityId: string;
  let cookie: string;
  const agentsDir = mkdtempSync(join(tmpdir(), 'gridshare-demo-controlled-'));
  const stop = new AbortController();
  let run: Promise<unknown>;

  beforeAll(async () => {
    tp = await startTestPlatform('pglite');
    communityId = (await ensureDemoCommunity(tp.platform.db, tp.platform.secrets.box)).communityId;
    run = startDemoSimulation({
      db: tp.platform.db, secrets: tp.platform.secrets.box, agentsDir,
      endpoints: { ...tp.platform.endpoints, publicUrl: tp.platform.httpUrl, mqttUrl: tp.platform.mqttUrl.replace('localhost', '127.0.0.1') },
      speed: 900, intervalMs: 250, start: new Date(Date.now() - 5 * 60_000), signal: stop.signal,
    });
    cookie = sessionCookie(await tp.call('POST', '/api/v1/auth/login', { body: { email: DEMO_MANAGER_EMAIL, password: DEMO_PASSWORD } }));
    // 38 agents start one after another; each sends its first heartbeat 10 s after its start.
    await until('household 1\'s agents online', async () => {
      const health = (await tp.call('GET', `/api/v1/communities/${communityId}/agent-health`, { cookie })).body as { deviceId: string; transport: string }[];
      return ['demo-home-battery', 'demo-washing-machine'].every((id) => health.some((h) => h.deviceId === id && h.transport === 'mqtt')) || undefined;
    }, 120_000);
  }, 180_000);
  afterAll(async () => {
    stop.abort();
    await run?.catch(() => undefined);
    await tp?.close();
    rmSync(agentsDir, { recursive: true, force: true });
  });

  const issue = async (deviceId: string, body: Record<string, unknown>) => {
    const issued = await tp.call('POST', `/api/v1/devices/${deviceId}/manual-commands`, { cookie, body });
    expect(issued.status).toBe(201);
    await tp.platform.commands.flush();
    return until(`the answer of ${deviceId}`, async () => {
      const items = (await tp.call('GET', `/api/v1/communities/${communityId}/commands?deviceId=${deviceId}&limit=50`, { cookie })).body.items as { id: string; state: string }[];
      const found = items.find((c) => c.id === issued.body.id);
      return found && found.state !== 'queued' && found.state !== 'sent' ? found : undefined;
    });
  };
  const latest = async (deviceId: string, quantity: string) => (await tp.platform.db.query<{ value: number }>(
    'SELECT value FROM readings WHERE device_id = $1 AND quantity = $2 ORDER BY ts DESC LIMIT 1', [deviceId, quantity]))[0]?.value;

  it('charges the home battery as a manager\'s command says, answered by its agent', async () => {
    expect(await issue('demo-home-battery', { kind: 'battery-power', value: 2_500, durationMinutes: 30 })).toMatchObject({ state: 'acknowledged' });
    await until('the battery charging at 2.5 kW', async () => ((await latest('demo-home-battery', 'battery.power.charge')) === 2_500 ? true : undefined), 30_000);
    // The agent's own setup and queue: the simulated battery is its local device, its readings went through the SQLite queue.
    const config = JSON.parse(readFileSync(join(agentsDir, 'demo-home-battery', 'agent.json'), 'utf8')) as { agent: { connectors: { kind: string; config: unknown }[] } };
    expect(config.agent.connectors).toMatchObject([{ kind: 'simulated', config: { model: 'battery' } }]);
    const queue = new Database(join(agentsDir, 'demo-home-battery', 'agent-queue.db'), { readonly: true });
    try {
      expect((queue.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'outbox'`).get() as { seq: number }).seq).toBeGreaterThan(0);
      const answers = JSON.parse((queue.prepare(`SELECT value FROM meta WHERE name = 'commandAnswers'`).get() as { value: string }).value) as [string, { result: string }][];
      expect(answers.map(([, answer]) => answer.result)).toContain('acknowledged');
    } finally {
      queue.close();
    }
  });

  it('starts the washing machine\'s programme on an appliance start', async () => {
    expect(await issue('demo-washing-machine', { kind: 'appliance-start' })).toMatchObject({ state: 'acknowledged' });
    await until('the washing machine drawing 2 kW', async () => ((await latest('demo-washing-machine', 'power.import')) === 2_000 ? true : undefined), 30_000);
  });
});
