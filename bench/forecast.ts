/**
 * Forecasting benchmark (`npm run bench:forecast`, add `-- --record` to update bench/RESULTS.md).
 *
 * Scenarios, each in its own child process so peak RSS is per scenario:
 *   community   every metering point of a synthetic 1,000-member community, 48 h at 15 min with
 *               P10/P50/P90, `auto` (every candidate replayed on the last 14 days, fits included),
 *               plus the community's consumption, production and surplus. Target < 10 s, < 500 MB.
 *   backtest    a one-year day-ahead walk-forward backtest of one 15-minute series with `auto`
 *               (every model run every day). Target < 30 s.
 * History per point: 8 weeks of 15-minute data (5,376 values); 70 % households, 25 % prosumers
 * with PV (most with known kWp and orientation, some calibrated), 5 % with a heat pump;
 * hourly weather (temperature, GHI, cloud cover) for history and horizon.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DAY_MS, QUARTER_HOUR_MS } from '../server/src/kernel/time.js';
import {
  createForecastCalendar, forecastCommunity, runBacktest, type CommunityPoint, type WeatherSeries,
} from '../server/src/forecast/index.js';
import { heatPumpElectric, householdLoad, pvProduction, skyIndex, VIENNA, weatherSeries } from '../server/test/forecast/support/synthetic.js';
import { machine, peakRssMb, recordSection } from './lib/report.js';

const HISTORY_DAYS = 56;
const HORIZON_STEPS = 192;
const TIME_ZONE = 'Europe/Vienna';

interface Figures {
  readonly scenario: string;
  readonly seconds: number;
  /** CPU time of the process over the same span (user + system): what the run costs on a busy machine. */
  readonly cpuSeconds: number;
  readonly generateSeconds: number;
  readonly series: number;
  readonly detail: string;
  readonly peakRssMb: number;
  readonly load: number;
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

interface CommunityInput {
  readonly points: CommunityPoint[];
  readonly weather: WeatherSeries;
  readonly issuedAtMs: number;
  readonly series: number;
}

function syntheticCommunity(members: number): CommunityInput {
  const from = Date.UTC(2025, 2, 1);
  const steps = HISTORY_DAYS * 96;
  const sky = skyIndex(HISTORY_DAYS + 4, 5);
  const weather = weatherSeries(from, (HISTORY_DAYS + 3) * 24, 5, VIENNA, sky);
  const points: CommunityPoint[] = [];
  let series = 0;
  for (let i = 0; i < members; i++) {
    const consumption = { series: householdLoad(from, QUARTER_HOUR_MS, steps, i, 250 + (i % 17) * 40) };
    series++;
    if (i % 20 === 7) {
      series++;
      points.push({ id: `m${i}`, consumption, heat: { series: heatPumpElectric(from, QUARTER_HOUR_MS, steps, weather, i) } });
    } else if (i % 4 === 1) {
      const kwp = 3 + (i % 7);
      const orientation = { tiltDeg: 20 + (i % 4) * 10, azimuthDeg: 150 + (i % 5) * 15 };
      const known = i % 5 !== 0;
      series++;
      points.push({
        id: `m${i}`,
        consumption,
        production: { series: pvProduction(from, QUARTER_HOUR_MS, steps, i, kwp, VIENNA, orientation, sky), pv: known ? { kwp, ...orientation } : { kwp } },
      });
    } else {
      points.push({ id: `m${i}`, consumption });
    }
  }
  return { points, weather, issuedAtMs: from + HISTORY_DAYS * DAY_MS, series };
}

function community(members: number): Figures {
  const load = loadavg()[0]!;
  const g0 = performance.now();
  const { points, weather, issuedAtMs, series } = syntheticCommunity(members);
  const calendar = createForecastCalendar(TIME_ZONE);
  const task = { issuedAtMs, startMs: issuedAtMs, steps: HORIZON_STEPS };
  const generateSeconds = (performance.now() - g0) / 1000;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const result = forecastCommunity({ calendar, location: VIENNA, weather, task, points });
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = cpuSince(c0);
  const chosen = new Map<string, number>();
  for (const p of result.points) for (const f of [p.consumption, p.production, p.heat]) if (f?.model) chosen.set(f.model, (chosen.get(f.model) ?? 0) + 1);
  const peakKw = Math.max(...result.surplus.p50) / 1000;
  return {
    scenario: 'community',
    seconds,
    cpuSeconds,
    generateSeconds,
    series,
    detail: `${members.toLocaleString('en')} members, ${series.toLocaleString('en')} series × ${HORIZON_STEPS} steps; models chosen: ${[...chosen].sort((a, b) => b[1] - a[1]).map(([m, n]) => `${m} ${n}`).join(', ')}; peak expected surplus ${peakKw.toFixed(0)} kW`,
    peakRssMb: peakRssMb(),
    load,
  };
}

function backtest(): Figures {
  const load = loadavg()[0]!;
  const g0 = performance.now();
  const from = Date.UTC(2024, 0, 1);
  const steps = 366 * 96;
  const series = householdLoad(from, QUARTER_HOUR_MS, steps, 3);
  const calendar = createForecastCalendar('Europe/Vienna');
  const generateSeconds = (performance.now() - g0) / 1000;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const result = runBacktest({ series, site: { kind: 'load' }, calendar, model: 'auto', horizon: 'day-ahead' });
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = cpuSince(c0);
  const a = result.accuracy[0]!;
  return {
    scenario: 'backtest',
    seconds,
    cpuSeconds,
    generateSeconds,
    series: 1,
    detail: `one year of 15-minute load (${steps.toLocaleString('en')} values), auto day-ahead, ${result.issues} issues, ${result.models.length} models each day; skill vs persistence ${a.skill?.toFixed(3)}, coverage ${((a.coverage ?? 0) * 100).toFixed(1)}%`,
    peakRssMb: peakRssMb(),
    load,
  };
}

const SCENARIOS = ['community', 'backtest'];
const TARGETS: Record<string, string> = { community: '< 10 s, < 500 MB', backtest: '< 30 s' };

/** Each scenario in a child process of its own, so its peak RSS is its own; the figures come back as the last line of its output. */
function runChild(scenario: string, extra: string[]): Figures {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--scenario', scenario, ...extra], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  const last = child.stdout.trim().split('\n').at(-1) ?? '';
  if (child.status !== 0 || !last.startsWith('{')) throw new Error(`scenario ${scenario} failed (exit ${child.status})`);
  return JSON.parse(last) as Figures;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const membersAt = args.indexOf('--members');
  const members = membersAt >= 0 ? Number(args[membersAt + 1]) : 1000;
  const at = args.indexOf('--scenario');
  if (at >= 0) {
    const scenario = args[at + 1]!;
    const figures = scenario === 'backtest' ? backtest() : community(members);
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    return;
  }
  const only = args.filter((a) => SCENARIOS.includes(a));
  const results: Figures[] = [];
  for (const scenario of only.length > 0 ? only : SCENARIOS) {
    process.stderr.write(`running ${scenario}…\n`);
    const f = runChild(scenario, membersAt >= 0 ? ['--members', String(members)] : []);
    results.push(f);
    process.stdout.write(`${f.scenario.padEnd(10)} ${f.seconds.toFixed(2)} s (CPU ${f.cpuSeconds.toFixed(2)} s; target ${TARGETS[f.scenario]}), peak RSS ${f.peakRssMb} MB, generate ${f.generateSeconds.toFixed(1)} s, load ${f.load.toFixed(1)}: ${f.detail}\n`);
  }
  const body = [
    `Measured on ${machine()} with \`npm run bench:forecast\`. The machine is shared with other sessions: "Load" is the 1-minute load average when the scenario started (above 2 on 2 CPUs, everything is slower). "Time" is wall-clock; "CPU" is the process's user + system time over the same span, the better estimate of the time on a quiet machine (the run is single-threaded).`,
    `Synthetic seeded community (70 % households, 25 % prosumers with PV — 4 in 5 with known kWp and orientation, the others calibrated — 5 % with a heat pump), ${HISTORY_DAYS} days of 15-minute history per series, hourly weather. The community forecast is \`forecastCommunity\` with \`auto\`: every candidate model is fitted and replays the same 48 h task on each of the last 5 days, the best one forecasts and replays 9 more days, its 14 days of replay errors give P10/P90, and the community aggregates are banded on their own errors. The backtest is \`runBacktest\` (auto, day-ahead). Peak RSS is the whole child process (generator included). \`forecastPoints\` and \`aggregateCommunity\` let a job split a community over worker threads; not measured here.`,
    '',
    '| Scenario | Time (s) | CPU (s) | Target | Peak RSS (MB) | Generate (s) | Load | What |',
    '|---|---:|---:|---|---:|---:|---:|---|',
    ...results.map((f) => `| ${f.scenario} | ${f.seconds.toFixed(2)} | ${f.cpuSeconds.toFixed(2)} | ${TARGETS[f.scenario]} | ${f.peakRssMb} | ${f.generateSeconds.toFixed(1)} | ${f.load.toFixed(1)} | ${f.detail} |`),
  ].join('\n');
  process.stdout.write(`\n${body}\n`);
  if (args.includes('--record')) {
    recordSection('Forecasting', body);
    process.stderr.write('recorded in bench/RESULTS.md\n');
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
