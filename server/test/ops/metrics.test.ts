import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import pg from 'pg';
import { createTestDatabase, postgresUrl, platformStoreKinds, type TestDatabase } from '../support/stores.js';
import { signUp, startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { communityBody } from '../support/world.js';
import { connectDevice, deviceCredentials, readingsMessage, sasFor } from '../support/devices.js';
import { familyOf, parseScrape, promtool, total, type Scrape } from '../support/prometheus.js';

/** The families `/metrics` must have, with their type (the dashboard and alert rules are built on them). */
const FAMILIES: Readonly<Record<string, string>> = {
  gridshare_http_requests_total: 'counter',
  gridshare_http_request_duration_seconds: 'histogram',
  gridshare_ingest_readings_stored_total: 'counter',
  gridshare_ingest_commits_total: 'counter',
  gridshare_ingest_commit_readings: 'histogram',
  gridshare_ingest_messages_refused_total: 'counter',
  gridshare_forecasts_issued_total: 'counter',
  gridshare_plans_total: 'counter',
  gridshare_plans_decided_total: 'counter',
  gridshare_plan_solve_duration_seconds: 'histogram',
  gridshare_commands: 'gauge',
  gridshare_connector_runs_total: 'counter',
  gridshare_connector_run_duration_seconds: 'histogram',
  gridshare_mqtt_connections: 'gauge',
  gridshare_mqtt_connections_accepted_total: 'counter',
  gridshare_mqtt_connections_refused_total: 'counter',
  gridshare_mqtt_client_errors_total: 'counter',
  gridshare_mqtt_broker_up: 'gauge',
  gridshare_database_up: 'gauge',
  gridshare_database_size_bytes: 'gauge',
  gridshare_disk_free_bytes: 'gauge',
  gridshare_disk_size_bytes: 'gauge',
  gridshare_job_runs_total: 'counter',
  gridshare_job_failures_total: 'counter',
  gridshare_job_failures_in_row: 'gauge',
  gridshare_job_lag_seconds: 'gauge',
  gridshare_job_pass_duration_seconds: 'histogram',
  gridshare_job_last_success_timestamp_seconds: 'gauge',
  gridshare_job_last_failure_timestamp_seconds: 'gauge',
  gridshare_ledger_entries: 'gauge',
  gridshare_ledger_audit_failures: 'gauge',
};

const DEPLOY = resolve(dirname(fileURLToPath(import.meta.url)), '../../../deploy');
const RULES = join(DEPLOY, 'prometheus/gridshare-alerts.yml');

/** The PromQL expressions of the alert rules and of the dashboard's panels. */
function deployedExpressions(): string[] {
  const rules = [...readFileSync(RULES, 'utf8').matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1]!);
  const dashboard = JSON.parse(readFileSync(join(DEPLOY, 'grafana/gridshare.json'), 'utf8')) as { panels: { targets?: { expr: string }[] }[]; templating: { list: { definition?: string }[] } };
  const panels = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((target) => target.expr);
  const variables = dashboard.templating.list.flatMap((variable) => (variable.definition ? [variable.definition] : []));
  return [...rules, ...panels, ...variables];
}

describe('the alert rules and the scrape config in deploy/prometheus', () => {
  it('pass promtool check rules, their unit tests, and check config', () => {
    const rules = promtool(['check', 'rules', RULES]);
    expect(rules.output).toContain('SUCCESS: 13 rules found');
    expect(rules.status).toBe(0);
    const tested = promtool(['test', 'rules', join(DEPLOY, 'prometheus/gridshare-alerts.test.yml')]);
    expect(tested.output).toContain('SUCCESS');
    expect(tested.status).toBe(0);
    // The config names its token file relative to itself: checked as an operator lays it out.
    const folder = mkdtempSync(join(tmpdir(), 'gridshare-prometheus-'));
    try {
      for (const file of ['prometheus.yml', 'gridshare-alerts.yml']) copyFileSync(join(DEPLOY, 'prometheus', file), join(folder, file));
      writeFileSync(join(folder, 'gridshare-token'), 'an-admin-api-token\n', { mode: 0o600 });
      const config = promtool(['check', 'config', join(folder, 'prometheus.yml')]);
      expect(config.output).toContain('is valid prometheus config file syntax');
      expect(config.status).toBe(0);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('refuses a broken rules file (the check is not a formality)', () => {
    const folder = mkdtempSync(join(tmpdir(), 'gridshare-prometheus-'));
    try {
      writeFileSync(join(folder, 'broken.yml'), 'groups:\n  - name: broken\n    rules:\n      - alert: Broken\n        expr: sum by (instance (gridshare_database_up)\n');
      expect(promtool(['check', 'rules', join(folder, 'broken.yml')]).status).not.toBe(0);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

describe.each(platformStoreKinds)('/metrics after real traffic on %s', (kind) => {
  let tp: TestPlatform;
  let before: Scrape;
  let afterText: string;
  let after: Scrape;
  let deviceId: string;
  const clients: MqttClient[] = [];

  const scrape = async () => {
    const response = await tp.call('GET', '/metrics', { token: tp.admin.token });
    expect(response.status).toBe(200);
    return response.raw.body;
  };

  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    before = parseScrape(await scrape());
    const manager = await signUp(tp, 'metrics');
    const community = (await tp.call('POST', '/api/v1/communities', { token: manager.token, body: communityBody(unique('Metrics ')) })).body.id;
    const point = (await tp.call('POST', `/api/v1/communities/${community}/metering-points`, {
      token: manager.token, body: { name: 'Home', gridConnectionId: unique('AT001GC'), role: 'consumer' },
    })).body.id;
    deviceId = (await tp.call('POST', `/api/v1/communities/${community}/device-batches`, { token: manager.token, body: { count: 1 } })).body.deviceIds[0];
    await tp.call('PATCH', `/api/v1/devices/${deviceId}`, { token: manager.token, body: { meteringPointId: point } });
    const device = await deviceCredentials(tp, manager.token, deviceId);
    const client = await connectDevice(tp, deviceId, sasFor(device));
    clients.push(client);
    const topic = `devices/${deviceId}/messages/events`;
    await client.publishAsync(topic, readingsMessage(
      { ts: minutesAgo(3), quantity: 'energy.import', value: 1_000, unit: 'Wh' },
      { ts: minutesAgo(3), quantity: 'power.import', value: 400, unit: 'W' },
    ), { qos: 1 });
    await client.publishAsync(topic, '{"readings": [ broken', { qos: 1 });
    await client.publishAsync(topic, readingsMessage({ ts: minutesAgo(2), quantity: 'power.import', value: Number.MAX_VALUE, unit: 'W' }), { qos: 1 });
    // A wrong key: the broker refuses the connection.
    await expect(connectDevice(tp, deviceId, sasFor({ ...device, primaryKey: Buffer.alloc(32, 1).toString('base64') }))).rejects.toThrow(/Not authorized/i);
    // An unknown path (answered by the web app's catch-all route), a refused log-in, a device's state.
    expect((await tp.call('GET', `/api/v1/no-such-route/${unique('x')}`)).status).toBe(404);
    expect((await tp.call('POST', '/api/v1/auth/login', { body: { email: manager.email, password: 'wrong-password-here' } })).status).toBe(401);
    expect((await tp.call('GET', `/api/v1/devices/${deviceId}/state`, { token: tp.admin.token })).status).toBe(200);
    await tp.platform.intervals.flush();
    await tp.platform.sharing.flush();
    afterText = await scrape();
    after = parseScrape(afterText);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await tp?.close();
  });

  it('passes promtool check metrics (Prometheus naming and exposition rules)', () => {
    const checked = promtool(['check', 'metrics'], afterText);
    expect(checked.output).toBe('');
    expect(checked.status).toBe(0);
  });

  it('has every family the dashboard and the alerts use, with its type', () => {
    for (const [family, type] of Object.entries(FAMILIES)) expect([family, after.types.get(family)]).toEqual([family, type]);
    for (const sample of after.samples) expect(familyOf(after, sample.name), sample.name).toBeDefined();
  });

  it('has every metric the alert rules and the dashboard name', () => {
    const named = new Set(deployedExpressions().flatMap((expr) => [...expr.matchAll(/\bgridshare_[a-z0-9_]+\b/g)].map((m) => m[0])));
    expect(named.size).toBeGreaterThan(25);
    // A histogram nothing observed yet (no connector ran) has its family but no `_bucket` samples.
    expect([...named].filter((name) => familyOf(after, name) === undefined)).toEqual([]);
  });

  it('counts ingest: readings stored, commits and refusals by reason', () => {
    expect(total(after, 'gridshare_ingest_readings_stored_total') - total(before, 'gridshare_ingest_readings_stored_total')).toBe(2);
    expect(total(after, 'gridshare_ingest_commits_total')).toBeGreaterThan(total(before, 'gridshare_ingest_commits_total'));
    expect(total(after, 'gridshare_ingest_commit_readings_sum')).toBeGreaterThanOrEqual(2);
    expect(total(after, 'gridshare_ingest_messages_refused_total', { reason: 'malformed-json' })).toBe(1);
    expect(total(after, 'gridshare_ingest_messages_refused_total')).toBe(2);
  });

  it('counts MQTT connections accepted, refused by reason, and those open now', () => {
    expect(total(after, 'gridshare_mqtt_connections_accepted_total')).toBe(1);
    expect(total(after, 'gridshare_mqtt_connections_refused_total', { reason: 'not_authorized' })).toBe(1);
    expect(total(after, 'gridshare_mqtt_connections')).toBe(1);
    expect(total(after, 'gridshare_mqtt_broker_up')).toBe(1);
  });

  it('labels HTTP requests by route pattern and status, never by the raw URL', () => {
    expect(total(after, 'gridshare_http_requests_total', { route: '/api/v1/auth/login', status: '401' })).toBe(1);
    expect(total(after, 'gridshare_http_requests_total', { route: '/api/v1/devices/:id/state', status: '200' })).toBe(1);
    expect(total(after, 'gridshare_http_requests_total', { route: '/*', status: '404' })).toBe(1);
    const routes = after.samples.filter((s) => s.name === 'gridshare_http_requests_total').map((s) => s.labels.route!);
    expect(routes.filter((route) => route.includes(deviceId) || route.includes('no-such-route'))).toEqual([]);
    expect(total(after, 'gridshare_http_request_duration_seconds_count', { route: '/api/v1/auth/signup' })).toBe(1);
  });

  it('reports every job\'s passes, durations and last success, and the store and disks', () => {
    expect(total(after, 'gridshare_job_runs_total', { job_name: 'intervals' })).toBeGreaterThan(total(before, 'gridshare_job_runs_total', { job_name: 'intervals' }));
    expect(total(after, 'gridshare_job_pass_duration_seconds_count', { job_name: 'sharing' })).toBeGreaterThan(0);
    expect(total(after, 'gridshare_job_last_success_timestamp_seconds', { job_name: 'intervals' })).toBeGreaterThan(0);
    expect(total(after, 'gridshare_job_lag_seconds', { job_name: 'intervals' })).toBe(0);
    expect(total(after, 'gridshare_database_up')).toBe(1);
    expect(total(after, 'gridshare_database_size_bytes')).toBeGreaterThan(0);
    expect(total(after, 'gridshare_disk_size_bytes', { folder: 'artefacts' })).toBeGreaterThanOrEqual(total(after, 'gridshare_disk_free_bytes', { folder: 'artefacts' }));
  });

  it('reports the process\'s memory: resident, JavaScript heap, external and the ArrayBuffers in it', () => {
    const resident = total(after, 'gridshare_process_resident_memory_bytes');
    const external = total(after, 'gridshare_nodejs_external_memory_bytes');
    const arrayBuffers = total(after, 'gridshare_nodejs_array_buffers_bytes');
    expect(after.types.get('gridshare_nodejs_array_buffers_bytes')).toBe('gauge');
    // Buffers are part of V8's external memory, which is part of what the process holds. The two
    // gauges are read one after the other within a scrape, so Buffers freed or made in between may
    // tip one over the other: each is compared with the resident memory, not with each other.
    expect(arrayBuffers).toBeGreaterThan(0);
    expect(arrayBuffers).toBeLessThan(resident);
    expect(external).toBeLessThan(resident);
  });

  it('is for platform admins only', async () => {
    expect((await tp.call('GET', '/metrics')).status).toBe(401);
  });
});

/**
 * The database stops taking connections (ALLOW_CONNECTIONS false, every session terminated): a
 * scrape must still answer, or Prometheus could only say "Gridshare down" and never that the
 * database is.
 */
describe.skipIf(!postgresUrl)('/metrics while the database is down (PostgreSQL)', () => {
  let database: TestDatabase;
  let tp: TestPlatform;
  let server: pg.Client;
  let name: string;
  const written: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    name = new URL((database.config as { url: string }).url).pathname.slice(1);
    tp = await startTestPlatform('postgres', { database, log: { destination: { write: (chunk) => written.push(chunk) } } });
    server = new pg.Client({ connectionString: postgresUrl });
    await server.connect();
  }, 120_000);
  afterAll(async () => {
    await server?.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS true`);
    await tp?.close();
    await server?.end();
    await database?.drop();
  });

  const scrape = async (token = tp.admin.token) => tp.call('GET', '/metrics', { token });
  const opsLines = () => written.flatMap((chunk) => chunk.split('\n')).filter((line) => line.includes('"component":"ops"'));

  it('answers 200 with gridshare_database_up 0 and what is known without it, then 1 once the database is back', async () => {
    const up = await scrape();
    expect(up.status).toBe(200);
    const before = parseScrape(up.raw.body);
    expect(total(before, 'gridshare_database_up')).toBe(1);
    expect(total(before, 'gridshare_database_size_bytes')).toBeGreaterThan(0);
    // Only the open states, both always there.
    expect(before.samples.filter((s) => s.name === 'gridshare_commands').map((s) => s.labels.state).sort()).toEqual(['queued', 'sent']);
    expect(opsLines()).toEqual([]);
    // A second admin token, scraped with and then revoked: forgotten, it lets nobody in later.
    const revoked = await tp.call('POST', '/api/v1/me/tokens', { token: tp.admin.token, body: { name: 'revoked scraper' } });
    expect(revoked.status).toBe(201);
    expect((await scrape(revoked.body.token)).status).toBe(200);
    expect((await tp.call('DELETE', `/api/v1/me/tokens/${revoked.body.id}`, { token: tp.admin.token })).status).toBe(204);
    expect((await scrape(revoked.body.token)).status).toBe(401);

    await server.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
    await server.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    expect((await tp.call('GET', '/health')).status).toBe(503);

    const down = await scrape();
    expect(down.status, down.raw.body).toBe(200);
    const scraped = parseScrape(down.raw.body);
    expect(total(scraped, 'gridshare_database_up')).toBe(0);
    expect(scraped.types.get('gridshare_database_up')).toBe('gauge');
    // What the process knows by itself is there ...
    expect(total(scraped, 'gridshare_mqtt_broker_up')).toBe(1);
    expect(total(scraped, 'gridshare_http_requests_total', { route: '/metrics', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(total(scraped, 'gridshare_disk_size_bytes', { folder: 'artefacts' })).toBeGreaterThan(0);
    expect(scraped.types.get('gridshare_process_resident_memory_bytes')).toBe('gauge');
    // ... what needs the database is left out, and the log says so.
    for (const family of ['gridshare_commands', 'gridshare_database_size_bytes', 'gridshare_ledger_entries', 'gridshare_interval_points_failing']) {
      expect(scraped.types.has(family), family).toBe(false);
    }
    const checked = promtool(['check', 'metrics'], down.raw.body);
    expect(checked.output).toBe('');
    expect(opsLines()).toEqual([expect.stringMatching(/"level":40.*metrics left out of this scrape.*gridshare_commands.*gridshare_database_size_bytes/)]);

    // The admin token verified before lets in to /metrics only: other routes, and a token never seen, are refused.
    expect((await tp.call('GET', '/api/v1/admin/users', { token: tp.admin.token })).status).toBeGreaterThanOrEqual(500);
    for (const token of ['gst_never-seen-by-this-process', revoked.body.token]) {
      const refused = await scrape(token);
      expect(refused.status).toBeGreaterThanOrEqual(500);
      expect(refused.raw.body).not.toContain('gridshare_database_up');
    }

    await server.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS true`);
    const back = await scrape();
    expect(back.status).toBe(200);
    const after = parseScrape(back.raw.body);
    expect(total(after, 'gridshare_database_up')).toBe(1);
    expect(after.types.get('gridshare_commands')).toBe('gauge');
    expect(total(after, 'gridshare_database_size_bytes')).toBeGreaterThan(0);
    expect(opsLines()).toHaveLength(1);
  }, 60_000);
});
