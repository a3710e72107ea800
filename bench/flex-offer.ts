/**
 * The validate phase end to end (part of `npm run bench:flex`): a whole platform on PGlite with a
 * 200-household community — each household a metering point behind one congestion point and a
 * 10 kWh home battery its member lets the plan control and opts in to an active contract — and a
 * DSO with its own keys on a real HTTP server. Timed: the DSO POSTs a signed FlexRequest for the
 * next day, the validate job re-plans twice (without and with the request; now to the Period's end),
 * prices the difference and the outbox delivers the signed FlexRequestResponse and FlexOffer to
 * the DSO, who opens them against the 3.1.0 XSDs. Run once (a plan for 200 households is not a
 * micro-benchmark); the target is < 10 s. A re-plan cut off by its limit finds no flexibility
 * (the answer is then Rejected and the benchmark fails, saying so).
 */
import { loadavg } from 'node:os';
import { startTestPlatform } from '../server/test/support/platform.js';
import { buildWorld } from '../server/test/support/world.js';
import { TestDso } from '../server/test/flex/support/test-dso.js';
import { publishedKeyPairs } from '../server/test/flex/support.js';
import { encodeMessage, writeXml, type FlexOffer, type FlexRequest } from '../server/src/flex/index.js';
import { machine, peakRssMb, recordSection } from './lib/report.js';

/** BENCH_HOUSEHOLDS: another size for a quick look (the recorded figure is 200). */
const HOUSEHOLDS = Number(process.env.BENCH_HOUSEHOLDS ?? 200);
/** Each of the two plans' solver limit (BENCH_REPLAN_LIMIT_S): generous, so the figure is what the re-plan takes rather than where it was cut off. */
const REPLAN_LIMIT_S = Number(process.env.BENCH_REPLAN_LIMIT_S ?? 300);
const DSO = 'dso.bench.example.org';
const CP = 'ea1.2026-06.org.example.dso:bench-feeder';
const ZONE = 'Europe/Amsterdam';
/** 10:00 local on 15 June 2026; the Period is the 16th. */
const NOW = Date.UTC(2026, 5, 15, 8, 0);

export async function measureOffer(record: boolean): Promise<void> {
  const loadAtStart = loadavg()[0]!;
  const tp = await startTestPlatform('pglite', { flex: { now: () => NOW, replanTimeLimitS: REPLAN_LIMIT_S }, optimise: { now: () => NOW, delayMs: 1e9, timeLimitS: REPLAN_LIMIT_S } });
  const pair = publishedKeyPairs().find((k) => k.id.startsWith('python-demo-dso'))!;
  const dso = await TestDso.start(DSO, pair.secretKey_b64);
  try {
    const w = await buildWorld(tp);
    const ok = async (token: string, method: string, url: string, body?: unknown) => {
      const response = await tp.call(method, url, { token, body });
      if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body;
    };
    const agr = `bench-${w.communityA}.example.org`;
    const identity = await ok(w.managerA.token, 'PUT', `/api/v1/communities/${w.communityA}/flex/identity`, { domain: agr, timeZone: ZONE });
    const participant = await ok(w.managerA.token, 'POST', `/api/v1/communities/${w.communityA}/flex/participants`, {
      domain: DSO, role: 'DSO', endpoint: dso.url, publicKeys: [pair.publicKey_b64], congestionPoints: [CP],
    });
    const contract = await ok(w.managerA.token, 'POST', `/api/v1/communities/${w.communityA}/flex/contracts`, {
      participantId: participant.id, congestionPoints: [CP], serviceType: 'congestion-management', validFrom: '2026-06-01', validTo: '2026-12-31',
      windows: [{ weekdays: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '24:00' }], capacityRemuneration: '2.50', volumeRemuneration: '0.12', penaltyRate: '0.30',
    });
    await ok(w.managerA.token, 'POST', `/api/v1/flex/contracts/${contract.id}/activate`);
    const setupStarted = performance.now();
    const connections: string[] = [];
    for (let k = 0; k < HOUSEHOLDS; k++) {
      const gridConnectionId = `NL0000BENCH${String(k).padStart(6, '0')}`;
      const point = await ok(w.memberA.token, 'POST', `/api/v1/communities/${w.communityA}/metering-points`, { name: `Home ${k}`, gridConnectionId, role: 'prosumer', pvCapacityW: 4000 });
      const battery = await ok(w.managerA.token, 'POST', `/api/v1/communities/${w.communityA}/devices`, { kind: 'battery', name: `Battery ${k}`, meteringPointId: point.id, role: 'storage' });
      await ok(w.memberA.token, 'PUT', `/api/v1/devices/${battery.id}/control`, { controllable: true, limits: { capacityWh: 10_000, reserveSoc: 0.1 } });
      await ok(w.memberA.token, 'PUT', `/api/v1/flex/contracts/${contract.id}/devices/${battery.id}`, {});
      connections.push(`ean.${gridConnectionId}`);
    }
    await ok(w.managerA.token, 'PUT', `/api/v1/flex/participants/${participant.id}/portfolio`, { congestionPoints: [{ entityAddress: CP, connections }] });
    const setupS = (performance.now() - setupStarted) / 1000;

    const request: FlexRequest = {
      type: 'FlexRequest', version: '3.1.0', senderDomain: DSO, recipientDomain: agr, timeStamp: NOW, messageId: crypto.randomUUID(), conversationId: crypto.randomUUID(),
      ispDurationMinutes: 15, timeZone: ZONE, period: '2026-06-16', congestionPoint: CP, revision: 1, expirationDateTime: NOW + 3_600_000,
      isps: [
        { disposition: 'Available', minPower: -2_000_000, maxPower: 2_000_000, start: 1, duration: 72 },
        { disposition: 'Requested', minPower: -400_000, maxPower: -100_000, start: 73, duration: 8 },
        { disposition: 'Available', minPower: -2_000_000, maxPower: 2_000_000, start: 81, duration: 16 },
      ],
    };
    const signed = dso.sign(writeXml(encodeMessage(request)));
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const response = await fetch(`${tp.platform.httpUrl.replace('localhost', '127.0.0.1')}/shapeshifter/api/v3/message`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: signed });
    if (response.status !== 200) throw new Error(`POST: ${response.status} ${await response.text()}`);
    const receivedMs = performance.now() - started;
    await tp.platform.flex.validate.flush();
    await tp.platform.flex.outbox.flush();
    const totalS = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    const answers = dso.opened(agr, identity.publicKey).map((m) => m.message);
    const offer = answers.find((m): m is FlexOffer => m.type === 'FlexOffer');
    if (!offer) throw new Error(`no offer: ${JSON.stringify(answers)}`);
    const option = offer.offerOptions[0]!;
    const requested = option.isps.filter((e) => e.start >= 73 && e.start <= 80);
    const body = [
      `Measured ${machine()} with \`npm run bench:flex\` (validate phase of issue 18), once, on PGlite; 1-minute load average at the start: ${loadAtStart.toFixed(1)} (the machine is shared: above 2 on 2 CPUs everything is slower). ${HOUSEHOLDS} households behind one congestion point, each a prosumer (4 kW PV) with a 10 kWh / 5 kW home battery opted in to an active contract; no consumption forecasts are stored, so the households' loads and PV are 0 and the plan is the batteries' against the tariff (200 batteries over the 153 quarter hours from now to the Period's end, solved twice; the tariff's export price is negative, so each battery has a binary per step; the validate step plans the households merged into one site, which is exact here: about 2,000 columns and 153 binaries instead of 185,000 and 30,600). The DSO (own keys, real HTTP server) asks 100–400 kW less in ISPs 73–80 of the next day.`,
      '',
      '| Step | Figure |',
      '|---|---:|',
      `| Setup through the API (${HOUSEHOLDS} metering points, batteries, control settings, opt-ins, portfolio) | ${setupS.toFixed(1)} s |`,
      `| POST of the signed FlexRequest answered (stored, judged, left to the validate phase) | ${receivedMs.toFixed(0)} ms |`,
      `| **FlexRequest POSTed → FlexRequestResponse and FlexOffer delivered to the DSO (two re-plans, pricing, sealing, delivery)** | **${totalS.toFixed(2)} s** wall (target < 10 s), ${cpuS.toFixed(2)} s CPU of the process (solver thread included) |`,
      `| Offer: ISPs with flex / requested ISPs offered, power in ISP 73, price, minimum activation factor | ${option.isps.reduce((n, e) => n + e.duration, 0)} / ${requested.reduce((n, e) => n + e.duration, 0)}, ${(requested[0]?.power ?? 0) / 1000} kW, ${Number(option.price) / 1e9} EUR, ${option.minActivationFactor} % |`,
      `| Peak RSS | ${peakRssMb().toFixed(0)} MB |`,
    ].join('\n');
    process.stdout.write(`${body}\n`);
    if (record) {
      recordSection('Flexibility (answering a FlexRequest, 200 households)', body);
      process.stderr.write('recorded in bench/RESULTS.md\n');
    }
  } finally {
    await tp.close();
    await dso.close();
  }
}
