/**
 * Registering devices with Mosquitto's dynamic-security plugin (issue 22): N devices' broker
 * clients and roles created the way Gridshare's MosquittoSync creates them (a role and two
 * clients per device, through DynsecClient and the same plan), in steps, each step timed. Then
 * what a start of Gridshare does against that broker (list every client and role, plan: nothing to
 * do), the broker's own restart (it loads the file), and one device connecting with its password.
 *
 *   npm run bench:dynsec [-- --devices 3000] [-- --step 500] [-- --record]
 *
 * Prints per step the cost of one command and how many clients the plugin held: Mosquitto 2.0
 * rewrites its whole file after every command, so that cost grows with the clients registered.
 */
import mqtt from 'mqtt';
import { loadavg } from 'node:os';
import { DynsecClient } from '../server/src/broker-security/dynsec-client.js';
import { deviceRole, MANAGED_DESCRIPTION, planSync, type DesiredClient } from '../server/src/broker-security/domain/dynsec-plan.js';
import { brokerPassword } from '../server/src/provisioning/index.js';
import { mosquittoMissing, startMosquitto } from '../server/test/support/mosquitto.js';
import { machine, recordSection } from './lib/report.js';

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const devices = Number(arg('--devices') ?? 3_000);
const step = Number(arg('--step') ?? 500);
if (mosquittoMissing) throw new Error(`this benchmark needs Mosquitto: ${mosquittoMissing}`);
if (!(devices > 0 && step > 0)) throw new Error('--devices and --step must be positive numbers');

const deviceId = (i: number) => `bench-${String(i).padStart(6, '0')}`;
/** A device's two clients as the sync wants them (primary and secondary key). */
function desired(i: number): DesiredClient[] {
  const id = deviceId(i);
  return (['primary', 'secondary'] as const).map((slot) => {
    const password = brokerPassword(`key-${slot}-${i}`, id);
    return { username: slot === 'primary' ? id : `${id}:secondary`, clientid: id, password, fingerprint: password.slice(0, 16), role: deviceRole(id), disabled: false };
  });
}

const loadBefore = loadavg()[0]!;
const broker = await startMosquitto();
const dynsec = await DynsecClient.connect(broker.url, broker.admin);
const steps: { devicesAfter: number; commands: number; seconds: number; msPerCommand: number }[] = [];
const started = performance.now();
for (let from = 0; from < devices; from += step) {
  const upTo = Math.min(devices, from + step);
  const want = Array.from({ length: upTo - from }, (_, k) => desired(from + k)).flat();
  const commands = planSync(want, { clients: [], roles: [] });
  const t = performance.now();
  await dynsec.run(commands);
  const ms = performance.now() - t;
  steps.push({ devicesAfter: upTo, commands: commands.length, seconds: ms / 1000, msPerCommand: ms / commands.length });
  console.log(`${upTo} devices: ${commands.length} commands in ${(ms / 1000).toFixed(1)} s (${(ms / commands.length).toFixed(1)} ms per command)`);
}
const registerSeconds = (performance.now() - started) / 1000;

// What a Gridshare start does against this broker: list everything, plan, find nothing to do.
let t = performance.now();
const [clients, roles] = await Promise.all([dynsec.clients(), dynsec.roles()]);
const all = Array.from({ length: devices }, (_, i) => desired(i)).flat();
const left = planSync(all, { clients, roles }).length;
const reconcileSeconds = (performance.now() - t) / 1000;
const managed = clients.filter((c) => c.textdescription?.startsWith(MANAGED_DESCRIPTION)).length;
console.log(`reconcile of an unchanged broker: ${managed} clients and ${roles.length} roles listed, ${left} commands, ${reconcileSeconds.toFixed(1)} s`);
await dynsec.close();

t = performance.now();
await broker.restart();
const restartSeconds = (performance.now() - t) / 1000;
const last = desired(devices - 1)[0]!;
t = performance.now();
const device = await mqtt.connectAsync(broker.url, { username: last.username, password: last.password, clientId: last.clientid, protocolVersion: 5, reconnectPeriod: 0 });
await device.publishAsync(`devices/${last.clientid}/messages/events`, '{}', { qos: 1 });
const connectMs = performance.now() - t;
await device.endAsync();
console.log(`broker restart (loads the file): ${restartSeconds.toFixed(1)} s; a device connects and publishes in ${connectMs.toFixed(0)} ms`);
await broker.close();

// Cost per command against clients held: a straight line through the steps (least squares).
const xs = steps.map((s) => 2 * (s.devicesAfter - step / 2));
const ys = steps.map((s) => s.msPerCommand);
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const [mx, my] = [mean(xs), mean(ys)];
const slope = xs.length > 1 ? xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0) : Number.NaN;
const perThousand = slope * 1000;
// Registering 10,000 devices = 30,000 commands at an average of (intercept + slope × clients held).
const intercept = my - slope * mx;
const tenThousandMinutes = (30_000 * (intercept + slope * 10_000)) / 60_000;
console.log(`cost per command grows by ${perThousand.toFixed(2)} ms per 1,000 clients held; 10,000 devices would take about ${tenThousandMinutes.toFixed(0)} min`);

if (process.argv.includes('--record')) {
  const rows = steps.map((s) => `| ${s.devicesAfter.toLocaleString('en')} | ${(2 * s.devicesAfter).toLocaleString('en')} | ${s.commands} | ${s.seconds.toFixed(1)} | ${s.msPerCommand.toFixed(1)} |`).join('\n');
  recordSection('Registering devices with Mosquitto\'s dynamic security (bench:dynsec)', `
Measured ${machine()} with \`npm run bench:dynsec -- --devices ${devices} --step ${step}\`, Mosquitto
2.0 (Debian's package) with the repository's recommended configuration on a loopback port; 1-minute
load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after (a shared machine). Each device is a role and two
clients (primary and secondary key), created as MosquittoSync creates them, ${step} devices per step.

| Devices registered | Clients held | Commands in step | Step (s) | Per command (ms) |
|---:|---:|---:|---:|---:|
${rows}

All ${devices.toLocaleString('en')} devices in ${registerSeconds.toFixed(0)} s. The cost of a command grows by about
${perThousand.toFixed(2)} ms per 1,000 clients held: Mosquitto 2.0's plugin rewrites its whole JSON file after each
command that changes it, so registering n devices costs time in n². Extrapolated from these steps, 10,000
devices at once would take about ${tenThousandMinutes.toFixed(0)} min on this machine. A Gridshare start against the
registered broker (list ${managed.toLocaleString('en')} clients and ${roles.length.toLocaleString('en')} roles, plan, nothing to send) took
${reconcileSeconds.toFixed(1)} s; the broker's restart (it loads the file) ${restartSeconds.toFixed(1)} s; a device then
connected and published in ${connectMs.toFixed(0)} ms.
`);
}
