/**
 * Connectors benchmark (`npm run bench:connectors`, `-- --record` to update bench/RESULTS.md;
 * `-- --devices 1000 --seconds 60` to change the load).
 *
 * 1,000 SunSpec devices (inverter 103, meter 203, storage 124, battery 802) are simulated on
 * loopback ports in a separate process; this process polls each of them every 15 s through
 * runConnector('modbus-sunspec'), the way phase 2's scheduler will: one TCP connection per
 * poll, configuration and state checked, readings checked, the state kept between polls.
 * Polls are spread evenly over the interval. The first interval discovers every device's model
 * chain and is reported apart; the measurement covers the following `--seconds`.
 * Figures: this process's CPU (user + system) as a share of one core, poll latency from the
 * scheduled start to the report (so event-loop delays count), event-loop delay, failures.
 * Targets (SPEC §5): < 30 % of one core, p99 < 1 s.
 */
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runConnector } from '../server/src/connectors/index.js';
import { cpuBetween, cpuSnapshot } from './lib/cpu.js';
import { machine, peakRssMb, percentile, recordSection } from './lib/report.js';

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const DEVICES = Number(arg('--devices')) || 1000;
const SECONDS = Number(arg('--seconds')) || 60;
const QUARTER_HOUR_MS = 15_000;
const LOAD_AT_START = loadavg()[0]!;

const simulator = fork(fileURLToPath(new URL('./lib/modbus-devices.ts', import.meta.url)), [String(DEVICES)], { execArgv: ['--import', 'tsx'] });
const ports = await new Promise<number[]>((resolve, reject) => {
  simulator.once('message', (message) => resolve((message as { ports: number[] }).ports));
  simulator.once('exit', (code) => reject(new Error(`the device simulator exited (${code})`)));
});
console.log(`${DEVICES} simulated SunSpec devices listening (pid ${simulator.pid}); polling each every ${QUARTER_HOUR_MS / 1000} s`);

interface Poll { readonly latencyMs: number; readonly ok: boolean; readonly readings: number }
const states: unknown[] = new Array(DEVICES).fill(undefined);
const busy: boolean[] = new Array(DEVICES).fill(false);
const discovery: Poll[] = [];
const steady: Poll[] = [];
let overruns = 0;
let firstError: string | undefined;

const origin = performance.now() + 100;
const measureFrom = origin + QUARTER_HOUR_MS;
const measureUntil = measureFrom + SECONDS * 1000;

async function poll(device: number, scheduledAt: number): Promise<void> {
  if (busy[device]) {
    overruns++;
    return;
  }
  busy[device] = true;
  try {
    const report = await runConnector('modbus-sunspec', { host: '127.0.0.1', port: ports[device] }, states[device]);
    states[device] = report.state;
    const result = { latencyMs: performance.now() - scheduledAt, ok: report.outcome === 'ok', readings: report.readings.length };
    if (!result.ok) firstError ??= report.error?.message ?? report.problems[0]?.message;
    if (scheduledAt < measureFrom) discovery.push(result);
    else if (scheduledAt < measureUntil) steady.push(result);
  } finally {
    busy[device] = false;
  }
}

// Device i is polled at origin + i/N of the interval, then every interval.
const timers: NodeJS.Timeout[] = [];
const delay = monitorEventLoopDelay({ resolution: 10 });
let cpuStart: NodeJS.CpuUsage | undefined;
let wallStart = 0;
let simStart: ReturnType<typeof cpuSnapshot> | undefined;
for (let i = 0; i < DEVICES; i++) {
  const offset = (i * QUARTER_HOUR_MS) / DEVICES;
  const first = origin + offset;
  timers.push(setTimeout(function tick(this: void, scheduledAt: number) {
    void poll(i, scheduledAt);
    const next = scheduledAt + QUARTER_HOUR_MS;
    if (next < measureUntil) timers[i] = setTimeout(tick, next - performance.now(), next);
  }, first - performance.now(), first));
}
setTimeout(() => {
  cpuStart = process.cpuUsage();
  wallStart = performance.now();
  simStart = cpuSnapshot({ simulator: [simulator.pid!] });
  delay.enable();
}, measureFrom - performance.now());

await new Promise<void>((resolve) => setTimeout(resolve, measureUntil - performance.now() + 50));
const cpu = process.cpuUsage(cpuStart);
const wallMs = performance.now() - wallStart;
delay.disable();
const sim = cpuBetween(simStart!, cpuSnapshot({ simulator: [simulator.pid!] }));
// Let the last polls finish before stopping the devices.
while (busy.some(Boolean)) await new Promise((resolve) => setTimeout(resolve, 50));
for (const timer of timers) clearTimeout(timer);
const { requests } = await new Promise<{ requests: number }>((resolve) => {
  simulator.once('message', (message) => resolve(message as { requests: number }));
  simulator.send('stop');
});

const cpuShare = (cpu.user + cpu.system) / 1000 / wallMs;
const summary = (polls: Poll[]) => {
  const sorted = polls.map((p) => p.latencyMs).sort((a, b) => a - b);
  return {
    polls: polls.length,
    failed: polls.filter((p) => !p.ok).length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    readings: polls.reduce((s, p) => s + p.readings, 0),
  };
};
const first = summary(discovery);
const measured = summary(steady);
const lagP99 = delay.percentile(99) / 1e6;
const lagMax = delay.max / 1e6;
const ms = (v: number) => v.toFixed(1);

const lines = [
  `Machine: ${machine()}, 1-minute load average at start ${LOAD_AT_START.toFixed(1)}; peak RSS of the polling process ${peakRssMb()} MB.`,
  '',
  `| Phase | Polls | Failed | Readings | p50 (ms) | p99 (ms) | max (ms) |`,
  `|---|---:|---:|---:|---:|---:|---:|`,
  `| first interval (discovers each model chain) | ${first.polls} | ${first.failed} | ${first.readings} | ${ms(first.p50)} | ${ms(first.p99)} | ${ms(first.max)} |`,
  `| steady, ${SECONDS} s | ${measured.polls} | ${measured.failed} | ${measured.readings} | ${ms(measured.p50)} | ${ms(measured.p99)} | ${ms(measured.max)} |`,
  '',
  `| Steady state | Value | Target |`,
  `|---|---:|---|`,
  `| polling process CPU (user + system), share of one core | ${(cpuShare * 100).toFixed(1)} % | < 30 % |`,
  `| poll latency p99 (scheduled start → report) | ${ms(measured.p99)} ms | < 1000 ms |`,
  `| event-loop delay p99 / max | ${ms(lagP99)} / ${ms(lagMax)} ms | – |`,
  `| device simulator CPU (other process), share of one core | ${((sim.cores['simulator'] ?? 0) * 100).toFixed(1)} % | – |`,
  `| polls per second / Modbus requests answered in all | ${(measured.polls / (wallMs / 1000)).toFixed(1)} / ${requests} | – |`,
  ...(overruns > 0 ? [`| polls skipped (the previous one still running) | ${overruns} | 0 |`] : []),
];
const report = lines.join('\n');
console.log(report);
if (firstError) console.log(`first failure: ${firstError}`);
if (process.argv.includes('--record')) {
  recordSection('Connectors', [
    `Measured with \`npm run bench:connectors\`: ${DEVICES.toLocaleString('en')} SunSpec devices (inverter 103, meter 203, storage 124, battery 802: ${Math.round(measured.readings / Math.max(1, measured.polls))} readings a poll) simulated by jsmodbus servers on loopback ports in a separate process, polled every 15 s by this process through \`runConnector('modbus-sunspec')\` exactly as phase 2's scheduler will call it (a TCP connection per poll, configuration, state and every reading checked, the discovered layout kept in the state), polls spread evenly over the interval. Latency runs from a poll's scheduled start to its report, so event-loop delays count. The machine is shared with other sessions: the load average says how busy it was; the CPU share is this process's own CPU time, which the load does not inflate, while the latencies include waiting for a core.`,
    '',
    report,
  ].join('\n'));
}
process.exit(0);
