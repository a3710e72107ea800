import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { ensurePin, readConfigFile, section, storePath, updateAgentSection } from '../../src/agent/config-file.js';
import { startAgent } from '../../src/agent/agent.js';
import { createLogger } from '../../src/agent/log.js';
import { deviceConfigJson } from './support/agents.js';

const dir = mkdtempSync(join(tmpdir(), 'gridshare-agent-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configOnDisk(name: string, raw: Record<string, unknown> = deviceConfigJson()): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(raw), { mode: 0o600 });
  return path;
}

describe('agent.json on disk', () => {
  it('makes a PIN once and keeps it; a change that does not validate leaves the file as it was', () => {
    const path = configOnDisk('a.json');
    const file = readConfigFile(path);
    const pin = ensurePin(file);
    expect(pin).toMatch(/^\d{6}$/);
    expect(ensurePin(readConfigFile(path))).toBe(pin);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const before = readFileSync(path, 'utf8');
    expect(() => updateAgentSection(file, (agent) => { section(agent, 'meter').key = 'not hex'; })).toThrow(/agent\/meter\/key/);
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(file.config.agent.meter.key).toBeUndefined();
    expect(storePath(file)).toBe(join(dir, 'agent-queue.db'));
    expect(() => readConfigFile(join(dir, 'missing.json'))).toThrow(/cannot read/);
    writeFileSync(join(dir, 'broken.json'), '{"deviceId":');
    expect(() => readConfigFile(join(dir, 'broken.json'))).toThrow(/not JSON/);
  });
});

// Mosquitto takes any device (allow_anonymous on the test machine), so the heartbeat can be watched there.
const mqttUrl = process.env.TEST_MQTT_URL;
describe.skipIf(!mqttUrl)('the heartbeat over MQTT (external broker)', () => {
  it('publishes version, uptime, queue and serial health on devices/{id}/heartbeat', async () => {
    const deviceId = `agent-hb-${process.pid}`;
    const agentSection = { uplink: { heartbeatSeconds: 1, heartbeatOverMqtt: true }, web: { enabled: false }, mdns: false, store: { path: 'hb.db' } };
    const path = configOnDisk('hb.json', { ...deviceConfigJson(deviceId, agentSection), mqtt: { url: mqttUrl, topics: { events: `devices/${deviceId}/messages/events`, frames: `devices/${deviceId}/frames/{format}`, commands: `devices/${deviceId}/commands` } } });
    const watcher = await mqtt.connectAsync(mqttUrl!, { reconnectPeriod: 0 });
    await watcher.subscribeAsync(`devices/${deviceId}/heartbeat`);
    const beat = new Promise<Record<string, any>>((resolve) => watcher.on('message', (_topic, payload) => resolve(JSON.parse(payload.toString()))));
    const agent = await startAgent(readConfigFile(path), { log: createLogger('warn', () => undefined) });
    try {
      const heartbeat = await beat;
      expect(heartbeat).toMatchObject({ type: 'heartbeat', deviceId, version: expect.stringMatching(/^\d+\.\d+\.\d+/), queue: { messages: 0 }, serial: { port: null, open: false, framesPerMinute: 0, checksumErrors: 0 }, uplink: { transport: 'mqtt' } });
      expect(heartbeat.uptimeSeconds).toBeGreaterThanOrEqual(0);
    } finally {
      await agent.close();
      await watcher.endAsync();
    }
  });
});
