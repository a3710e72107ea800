/**
 * A simulated week of the demo community (`npm run bench:optimise-week`, `-- --record` to update
 * bench/RESULTS.md, `-- --days 2` for a shorter run): the cost with the plan (model predictive
 * control, re-planned every hour over 24 h and following each plan's first hour) against the cost
 * without one, for the same devices and the same forecasts, valued by the same `evaluate`.
 *
 * The community is "Sunny Street" as the demo seeds it: 30 households (every third with 5–8 kWp
 * PV), the library's 60 kWp, the 100 kWh community battery at the community's connection,
 * household 1's home battery (10 kWh) and EV charger (home 18:00–07:30, 20 kWh needed), household
 * 5's heat pump (tank 45–55 °C), the demo tariff (grid 0.285, community 0.14, feed-in 0.07 €/kWh).
 * Consumption and PV are synthetic (a seeded household profile, a sunny/cloudy day pattern); the
 * plan sees them as forecasts (perfect foresight: the figure is what planning adds, not forecast
 * error). Without a plan: batteries run in self-consumption mode, the EV charges at full power on
 * arrival, the heat pump follows its thermostat (optimise's `baseline`).
 */
import { formatNano } from '../server/src/kernel/money.js';
import '../server/src/optimise/domain/assets/index.js';
import type { AssetSteps } from '../server/src/optimise/domain/assets/index.js';
import { assembleScenario } from '../server/src/optimise/domain/assemble.js';
import { stateAt } from '../server/src/optimise/domain/device-commands.js';
import { baseline, evaluate } from '../server/src/optimise/domain/plan.js';
import { parseScenario } from '../server/src/optimise/domain/scenario.js';
import { optimise } from '../server/src/optimise/optimise.js';
import { Solver } from '../server/src/optimise/solver.js';
import { machine, peakRssMb, recordSection } from './lib/report.js';
import { SUNNY_STREET_START, sunnyStreet } from './lib/sunny-street.js';

const Q = 900_000;
const DAY_STEPS = 96;
const HORIZON = 96;
const REPLAN_STEPS = 4;
const args = process.argv.slice(2);
const days = Number(args[args.indexOf('--days') + 1] ?? 7) || 7;
const record = args.includes('--record');
const START = SUNNY_STREET_START;
const TOTAL = days * DAY_STEPS;

const { forecastsFrom, base } = sunnyStreet(days, TOTAL + HORIZON);

// The week as one scenario: what happens without a plan, and the frame the plans' first hours are valued in.
const week = assembleScenario({ ...base, nowMs: START, steps: TOTAL, forecasts: forecastsFrom(0, TOTAL), state: new Map() });
const weekScenario = parseScenario(week.scenario);
const without = baseline(weekScenario);
const buses = [...weekScenario.sites.map((s) => ({ id: s.id, assets: s.assets })), { id: 'community', assets: weekScenario.community.assets }];
const applied = buses.map((bus) => bus.assets.map((a) => ({
  energyWh: new Int32Array(TOTAL), ...(a.type === 'producer' ? { producedWh: new Int32Array(TOTAL), curtailedWh: new Int32Array(TOTAL) } : {}),
})));
const slot = new Map(buses.flatMap((bus, b) => bus.assets.map((a, k) => [`${bus.id}/${a.id}`, [b, k] as const])));

const solver = new Solver();
let state = new Map<string, { socWh?: number; temperatureC?: number }>();
let previous: Awaited<ReturnType<typeof optimise>>['solution'];
const times: number[] = [];
const statuses = new Map<string, number>();
const t0 = performance.now();
for (let t = 0; t < TOTAL; t += REPLAN_STEPS) {
  const assembly = assembleScenario({ ...base, nowMs: START + t * Q, steps: HORIZON, forecasts: forecastsFrom(t, HORIZON), state });
  const out = await optimise(parseScenario(assembly.scenario), { solver, ...(previous ? { previous } : {}) });
  times.push(out.result.timeS);
  statuses.set(out.result.status, (statuses.get(out.result.status) ?? 0) + 1);
  if (!out.document) throw new Error(`no plan at step ${t}: ${out.result.message} ${out.problems?.join('; ')}`);
  previous = out.solution;
  for (const site of out.document.sites) {
    for (const asset of site.assets) {
      const at = slot.get(`${site.id ?? 'community'}/${asset.id}`);
      if (!at) continue;
      const target = applied[at[0]]![at[1]]!;
      for (let k = 0; k < REPLAN_STEPS && t + k < TOTAL; k++) {
        target.energyWh[t + k] = asset.energyWh[k]!;
        if (target.producedWh) target.producedWh[t + k] = asset.producedWh?.[k] ?? -asset.energyWh[k]!;
        if (target.curtailedWh) target.curtailedWh[t + k] = asset.curtailedWh?.[k] ?? 0;
      }
    }
  }
  state = stateAt(out.document, assembly.bindings, START + (t + REPLAN_STEPS) * Q);
}
const seconds = (performance.now() - t0) / 1000;
await solver.close();
const withPlan = evaluate(weekScenario, applied as AssetSteps[][]);

// What each side leaves stored at the end of the week (batteries, the EV, the tank as electricity at COP 3):
// the plan's deficit is valued at the grid price (it would be bought back), a surplus at the feed-in price
// (what it could fetch at least), so the plan never gains by emptying or filling storage at the end.
const storedWh = (socWh: number | undefined, temperatureC: number | undefined) => (socWh ?? 0) + ((temperatureC ?? 0) * 300 * 1.163) / 3;
let storedWithout = 0;
let storedWith = 0;
for (const binding of week.bindings.filter((b) => b.controls)) {
  const at = slot.get(binding.key)!;
  const steps = without.sites[at[0]]!.assets[at[1]]!.steps;
  storedWithout += storedWh(steps.socWh?.at(-1) ?? undefined, steps.temperatureC?.at(-1));
  const end = state.get(binding.deviceId!);
  storedWith += storedWh(end?.socWh, end?.temperatureC);
}
const leftBehindNano = BigInt(Math.round(storedWith - storedWithout)) * (storedWith > storedWithout ? 70_000n : 285_000n);
// Assets at the community's connection draw energy the model does not price (sites are paid the community
// price for what they export to it): what the community battery takes in net (its losses) is charged here at
// the community price, on both sides, as its own meter would be.
const communityBus = buses.length - 1;
const netDrawWh = (steps: readonly { energyWh: Int32Array }[]) => steps.reduce((sum, s) => sum + s.energyWh.reduce((a, v) => a + v, 0), 0);
const busDrawNano = (wh: number) => BigInt(wh) * 140_000n;
const unpricedNano = busDrawNano(netDrawWh(applied[communityBus]!)) - busDrawNano(netDrawWh(without.sites[communityBus]!.assets.map((a) => a.steps)));
const eur = (nano: bigint) => Number(formatNano(nano)).toFixed(2);
const kwh = (wh: number) => (wh / 1000).toFixed(0);
const saving = without.totals.costNano - withPlan.totals.costNano + leftBehindNano - unpricedNano;
const sorted = [...times].sort((a, b) => a - b);
const lines = [
  `| | without a plan | with the plan (MPC) | difference |`,
  `|---|---:|---:|---:|`,
  `| community cost, € (negative: it earns) | ${eur(without.totals.costNano)} | ${eur(withPlan.totals.costNano)} | ${eur(withPlan.totals.costNano - without.totals.costNano)} |`,
  `| stored at the end of the week, kWh | ${kwh(storedWithout)} | ${kwh(storedWith)} | ${kwh(storedWith - storedWithout)} (valued at ${storedWith > storedWithout ? 'the feed-in' : 'the grid'} price: ${eur(leftBehindNano)} €) |`,
  `| community battery's net draw at the connection, at the community price, € | | | ${eur(unpricedNano)} |`,
  `| **saving of the plan**, € | | | **${eur(saving)}** (${((Number(saving) / Math.abs(Number(without.totals.costNano))) * 100).toFixed(1)} % of the cost's size) |`,
  `| import from the grid, kWh | ${kwh(without.totals.importWh)} | ${kwh(withPlan.totals.importWh)} | ${kwh(withPlan.totals.importWh - without.totals.importWh)} |`,
  `| export to the grid, kWh | ${kwh(without.totals.exportWh)} | ${kwh(withPlan.totals.exportWh)} | ${kwh(withPlan.totals.exportWh - without.totals.exportWh)} |`,
  `| self-sufficiency | ${((without.totals.selfSufficiency ?? 0) * 100).toFixed(1)} % | ${((withPlan.totals.selfSufficiency ?? 0) * 100).toFixed(1)} % | |`,
];
const body = `
\`npm run bench:optimise-week\` (bench/optimise-week.ts) — ${machine()}.

A simulated week (${days} ${days === 1 ? 'day' : 'days'} from Monday 1 June 2026, Vienna) of the demo community "Sunny Street" (30 households,
every third with PV, the library's 60 kWp, the 100 kWh community battery, household 1's home battery and EV, household 5's
heat pump; demo tariff), planned as in operation: the scenario assembled from sites, devices, members' limits and
forecasts (\`assembleScenario\`), re-planned every hour over 24 h warm-started from the last plan, each plan's first
hour followed; both sides valued by the same \`evaluate\` over the whole week. Forecasts are the synthetic outcomes
(perfect foresight): the figure is what planning adds; forecast error would take part of it back.

${lines.join('\n')}

${times.length} plans: ${[...statuses].map(([s, n]) => `${n} ${s}`).join(', ')}; solve time median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} s,
max ${sorted.at(-1)!.toFixed(2)} s; the week in ${seconds.toFixed(0)} s; peak RSS ${peakRssMb()} MB.
`;
process.stdout.write(body);
if (record) recordSection('Optimisation: a simulated week of the demo community', body);
