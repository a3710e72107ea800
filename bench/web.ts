/**
 * Web app budgets on the demo (what `npm start` runs): the JavaScript a member's browser loads
 * to see the dashboard (target < 300 kB gzipped) and the time from opening the app to the
 * drawn energy-by-source chart, in Debian's headless Chromium with a cold cache.
 * Run: npm run bench:web [-- --runs N] [-- --record]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform } from '../server/src/platform/compose.js';
import { startDemoSimulation } from '../server/src/demo/simulation.js';
import { DEMO_PASSWORD, demoMemberEmail } from '../server/src/demo/seed.js';
import { WEB_DIST } from '../server/src/web/routes.js';
import { launchChromium } from '../web/e2e/chromium.js';
import { machine, percentile, recordSection } from './lib/report.js';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const record = process.argv.includes('--record');
/** The dashboard's stacked chart by source, first frame drawn (ENERGY_CHART_MARK in web/src/components/energy.tsx). */
const ENERGY_CHART_MARK = 'gridshare:energy-by-source';

const built = spawnSync(process.execPath, [join(import.meta.dirname, '../web/scripts/build.mjs')], { stdio: 'inherit' });
if (built.status !== 0) process.exit(1);

/** Sizes of the app's scripts as served: raw, gzip -9 and brotli (build.mjs writes both). */
function scriptSizes(urls: Iterable<string>) {
  let raw = 0;
  let gzip = 0;
  let brotli = 0;
  const names: string[] = [];
  for (const url of urls) {
    const path = join(WEB_DIST, new URL(url).pathname);
    names.push(new URL(url).pathname.split('/').at(-1)!.replace(/-[\w-]{8}\.js$/, ''));
    raw += statSync(path).size;
    gzip += statSync(`${path}.gz`).size;
    brotli += statSync(`${path}.br`).size;
  }
  return { files: names.length, names, raw, gzip, brotli };
}

const kB = (bytes: number) => (bytes / 1000).toFixed(1);

const dir = mkdtempSync(join(tmpdir(), 'gridshare-bench-web-'));
const started = performance.now();
const platform = await startPlatform({
  store: { kind: 'pglite', dataDir: join(dir, 'db') },
  artefactsDir: join(dir, 'artefacts'),
  http: { port: 0, host: '127.0.0.1', explicit: true },
  mqtt: { port: 0, host: '127.0.0.1', explicit: true },
  demo: true,
});
const simulation = new AbortController();
void startDemoSimulation({
  db: platform.db, secrets: platform.secrets.box, endpoints: { ...platform.endpoints, publicUrl: platform.httpUrl, mqttUrl: platform.mqttUrl },
  agentsDir: join(dir, 'demo-agents'), speed: 96, signal: simulation.signal,
}).catch((error: Error) => console.error(`simulation: ${error.message}`));
const base = platform.httpUrl;
const browser = await launchChromium();

try {
  // Log in once through the API: each run then opens the app with the session cookie and an empty cache.
  const loggedIn = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: demoMemberEmail(1), password: DEMO_PASSWORD }),
  });
  const session = /gs_session=([^;]+)/.exec(loggedIn.headers.get('set-cookie') ?? '')![1]!;

  // The login page alone, for comparison: what a visitor loads before logging in.
  const visitor = await browser.newContext();
  const loginPage = await visitor.newPage();
  const loginScripts = new Set<string>();
  loginPage.on('request', (r) => r.resourceType() === 'script' && loginScripts.add(r.url()));
  await loginPage.goto(`${base}/login`);
  await loginPage.getByLabel('Password').waitFor();
  await visitor.close();

  const times: number[] = [];
  let dashboardScripts = new Set<string>();
  let firstDataSeconds = Number.NaN;
  let firstLiveSeconds = Number.NaN;
  for (let run = 0; run < runs; run++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    await context.addCookies([{ name: 'gs_session', value: session, url: base }]);
    const page = await context.newPage();
    const scripts = new Set<string>();
    page.on('request', (r) => r.resourceType() === 'script' && scripts.add(r.url()));
    await page.goto(`${base}/`);
    // The first run also waits for the demo's first data: live power, then energy by source (stored quarter hours the sharing job split).
    if (run === 0) {
      await page.getByTestId('live-power').waitFor({ timeout: 180_000 });
      firstLiveSeconds = (performance.now() - started) / 1000;
    }
    await page.waitForFunction((mark) => performance.getEntriesByName(mark).length > 0, ENERGY_CHART_MARK, { timeout: 180_000, polling: 100 });
    if (run === 0) firstDataSeconds = (performance.now() - started) / 1000;
    else times.push(await page.evaluate((mark) => performance.getEntriesByName(mark)[0]!.startTime, ENERGY_CHART_MARK));
    dashboardScripts = scripts;
    await context.close();
  }

  const sorted = [...times].sort((a, b) => a - b);
  const load = loadavg()[0]!.toFixed(1);
  const visitorJs = scriptSizes(loginScripts);
  const dashboard = scriptSizes(dashboardScripts);
  const body = `Measured ${machine()} with \`npm run bench:web\`: the demo as \`npm start\` runs it (Sunny Street on PGlite, simulated devices over MQTT, replaying the last day 96× faster), the production build of web/, Debian's headless Chromium ${browser.version()}, member01 logged in, an empty cache on every run. "JS" counts every script the browser requested, at the sizes the server sends (gzip -9 and brotli files written by the build). "First chart" is the User Timing mark \`${ENERGY_CHART_MARK}\` (the stacked chart by source, ECharts' first finished frame) from navigation start, opening \`/\` (redirect to the member's dashboard, last 24 hours), over ${times.length} warm-server runs after a first run that also waited for the demo's first data: live power on the dashboard ${firstLiveSeconds.toFixed(1)} s and the energy-by-source chart ${firstDataSeconds.toFixed(1)} s after the platform started (the simulator first computes its meters' history since 1 January, then connects; the chart needs quarter hours stored and split by the sharing job; the page asks again every 10 s while it has none). Target: < 300 kB gzipped JS for the member dashboard. "Load" is the 1-minute load average at the end: the machine is shared, and above 2 on 2 CPUs every time here grows.

| Page | Scripts | Raw (kB) | Gzip (kB) | Brotli (kB) | Target |
|---|---:|---:|---:|---:|---|
| Login (visitor) | ${visitorJs.files} | ${kB(visitorJs.raw)} | ${kB(visitorJs.gzip)} | ${kB(visitorJs.brotli)} | – |
| Member dashboard (${dashboard.names.join(', ')}) | ${dashboard.files} | ${kB(dashboard.raw)} | ${kB(dashboard.gzip)} | ${kB(dashboard.brotli)} | < 300 kB gzip |

| Time to first chart | p50 (ms) | max (ms) | runs | Load |
|---|---:|---:|---:|---:|
| Open \`/\` logged in → energy-by-source chart drawn | ${percentile(sorted, 50).toFixed(0)} | ${sorted.at(-1)!.toFixed(0)} | ${sorted.length} | ${load} |`;
  console.log(body);
  if (record) recordSection('Web app', body);
} finally {
  simulation.abort();
  await browser.close();
  await platform.close();
  rmSync(dir, { recursive: true, force: true });
}
