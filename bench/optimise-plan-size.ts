/**
 * How big a stored plan is (`npm run bench:optimise-plan-size`; the figures are quoted in
 * bench/RESULTS.md's optimisation section): the parts of an `optimise_plans` row — the scenario as solved, the bindings,
 * the plan document, the per-asset view, the community's import series and the commands — as
 * JSON text and gzipped (PostgreSQL compresses large jsonb values, so the gzip size is near what
 * the table holds), for a 96-step plan of the demo community and of the 200-household benchmark
 * community (server/src/optimise/generate.ts; every asset bound, as assembled communities are).
 */
import { gzipSync } from 'node:zlib';
import '../server/src/optimise/domain/assets/index.js';
import { assembleScenario, type Binding } from '../server/src/optimise/domain/assemble.js';
import { planCommands } from '../server/src/optimise/domain/device-commands.js';
import { baseline } from '../server/src/optimise/domain/plan.js';
import { parseScenario } from '../server/src/optimise/domain/scenario.js';
import { generateCommunity } from '../server/src/optimise/generate.js';
import { optimise } from '../server/src/optimise/optimise.js';
import { plannedAssets } from '../server/src/optimise/service.js';
import { Solver } from '../server/src/optimise/solver.js';
import { machine } from './lib/report.js';
import { SUNNY_STREET_START, sunnyStreet } from './lib/sunny-street.js';

const STEPS = 96;

interface Sized { readonly json: number; readonly gzip: number }
const sized = (value: unknown): Sized => {
  const text = JSON.stringify(value);
  return { json: Buffer.byteLength(text), gzip: gzipSync(text).length };
};

async function storedParts(raw: Record<string, unknown>, bindings: readonly Binding[], solver: Solver) {
  const scenario = parseScenario(raw);
  const out = await optimise(scenario, { solver, settings: { timeLimitS: 20 } });
  if (!out.document) throw new Error(`no plan: ${out.result.message}`);
  const document = out.document;
  const community = document.sites.at(-1)!;
  return {
    status: out.result.status,
    parts: {
      scenario: sized(raw),
      bindings: sized(bindings),
      document: sized(document),
      assets: sized(plannedAssets(document, baseline(scenario), bindings)),
      'import series': sized([community.importWh, community.exportWh]),
      commands: sized(planCommands(document, bindings)),
    },
  };
}

/** The benchmark community has no registry behind it: every asset is bound as its own device. */
function bindAll(raw: Record<string, unknown>): Binding[] {
  const sites = raw.sites as { id: string; member: string; assets: { id: string; type: string }[] }[];
  return sites.flatMap((site) => site.assets.map((a): Binding => ({
    key: `${site.id}/${a.id}`, name: `${site.id} ${a.id}`, type: a.type, deviceId: a.type === 'load' ? null : `gs-${site.id}-${a.id}`,
    controls: null, meteringPointId: site.id, memberId: site.member,
  })));
}

const solver = new Solver();
const street = sunnyStreet(1, STEPS);
// From local noon, as the optimisation benchmark plans.
const demo = assembleScenario({ ...street.base, nowMs: SUNNY_STREET_START + 12 * 3_600_000, steps: STEPS, forecasts: street.forecastsFrom(48, STEPS), state: new Map() });
const bench = generateCommunity({ households: 200, seed: 1 });
const rows: [string, Awaited<ReturnType<typeof storedParts>>][] = [
  ['demo community (32 sites, 96 steps)', await storedParts(demo.scenario, demo.bindings, solver)],
  ['benchmark community (200 households, 96 steps)', await storedParts(bench, bindAll(bench), solver)],
];
await solver.close();

const kb = (bytes: number) => (bytes / 1024).toFixed(0);
const names = Object.keys(rows[0]![1].parts);
const lines = [
  `| plan | ${names.join(' | ')} | row total |`,
  `|---|${names.map(() => '---:').join('|')}|---:|`,
  ...rows.map(([label, { status, parts }]) => {
    const values = Object.values(parts);
    const total = values.reduce((s, p) => ({ json: s.json + p.json, gzip: s.gzip + p.gzip }), { json: 0, gzip: 0 });
    return `| ${label}, ${status} | ${values.map((p) => `${kb(p.json)} / ${kb(p.gzip)}`).join(' | ')} | **${kb(total.json)} / ${kb(total.gzip)}** |`;
  }),
];
const body = `\`npm run bench:optimise-plan-size\` — ${machine()}. KB of JSON text / gzipped:\n\n${lines.join('\n')}\n`;
process.stdout.write(body);
