/**
 * Optimisation benchmark (`npm run bench:optimise`, add `-- --record` to update bench/RESULTS.md,
 * `-- 50` for one size).
 *
 * Generated communities (server/src/optimise/generate.ts): every household a load, a battery and
 * one deferrable appliance, 60 % with PV, every fifth an EV (minimum charging power), every fifth
 * a heat pump with a tank (minimum running power); 96 steps of 15 minutes; cost objective.
 * Each size runs in its own child process (peak RSS per size): scenario → model → HiGHS-js in
 * its worker thread → plan. Then the same model, exported as CPLEX LP, is solved by native CBC
 * (Debian coinor-cbc) with the same gaps and time limit, for the ratio.
 * Targets (SPEC §5): 50 households within 0.5 % or 1 € in < 5 s; 200 households with a reported
 * gap in < 60 s.
 */
import { fork, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../server/src/optimise/domain/assets/index.js';
import { buildModel, startFrom } from '../server/src/optimise/domain/build.js';
import { writeLp } from '../server/src/optimise/domain/lp-format.js';
import { baseline } from '../server/src/optimise/domain/plan.js';
import { readSolution } from '../server/src/optimise/domain/build.js';
import { parseScenario } from '../server/src/optimise/domain/scenario.js';
import { generateCommunity } from '../server/src/optimise/generate.js';
import { Solver } from '../server/src/optimise/solver.js';
import { machine, peakRssMb, recordSection } from './lib/report.js';

interface Case { readonly households: number; readonly timeLimitS: number; readonly target: string }
const CASES: readonly Case[] = [
  { households: 50, timeLimitS: 30, target: '< 5 s to 0.5 % or 1 €' },
  { households: 200, timeLimitS: 55, target: '< 60 s, gap reported' },
];
const GAPS = { relativeGap: 0.005, absoluteGap: 1 };

interface Figures {
  readonly households: number;
  readonly target: string;
  readonly columns: number;
  readonly binaries: number;
  readonly rows: number;
  readonly buildS: number;
  readonly solveS: number;
  /** CPU time of the whole process during the solve (the worker thread's, mostly). */
  readonly solveCpuS: number;
  readonly totalS: number;
  readonly status: string;
  readonly objective: number | null;
  readonly bound: number | null;
  readonly relativeGap: number | null;
  readonly absoluteGap: number | null;
  readonly baselineCost: number;
  readonly planCost: number;
  readonly peakRssMb: number;
  readonly load: number;
  /** null when cbc is not installed. */
  readonly cbc: { readonly status: string; readonly objective: number | null; readonly wallS: number; readonly cpuS: number | null } | null;
}

function runCbc(lpPath: string, timeLimitS: number): Figures['cbc'] {
  if (spawnSync('cbc', ['-quit']).error) return null;
  const started = performance.now();
  const run = spawnSync('cbc', [lpPath, 'ratio', String(GAPS.relativeGap), 'allow', String(GAPS.absoluteGap), 'sec', String(timeLimitS), 'solve', 'quit'], { encoding: 'utf8', timeout: (timeLimitS + 60) * 1000 });
  const wallS = (performance.now() - started) / 1000;
  if (run.error || run.status === null) return { status: `no answer within ${timeLimitS + 60} s`, objective: null, wallS, cpuS: null };
  const objective = /Objective value:\s+(-?[\d.e+-]+)/.exec(run.stdout);
  const cpu = /Total time \(CPU seconds\):\s+([\d.]+)/.exec(run.stdout);
  const status = /Result - (.*)/.exec(run.stdout)?.[1]?.trim() ?? 'unknown';
  return { status, objective: objective ? Number(objective[1]) : null, wallS, cpuS: cpu ? Number(cpu[1]) : null };
}

async function measure(c: Case): Promise<Figures> {
  const load = loadavg()[0]!;
  const started = performance.now();
  const scenario = parseScenario(generateCommunity({ households: c.households, seed: 1 }));
  const built = buildModel(scenario);
  const base = baseline(scenario);
  const start = startFrom(built, base);
  const buildS = (performance.now() - started) / 1000;
  const solver = new Solver();
  const solveCpu = process.cpuUsage();
  const result = await solver.solve(built.model, { timeLimitS: c.timeLimitS, ...GAPS }, start);
  const solveCpuUsed = process.cpuUsage(solveCpu);
  await solver.close();
  const plan = result.solution ? readSolution(built, result.solution) : undefined;
  const totalS = (performance.now() - started) / 1000;
  const rss = peakRssMb();
  const dir = mkdtempSync(join(tmpdir(), 'gridshare-bench-'));
  let cbc: Figures['cbc'] = null;
  try {
    const lpPath = join(dir, `community-${c.households}.lp`);
    writeFileSync(lpPath, writeLp(built.model));
    cbc = runCbc(lpPath, c.timeLimitS);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    households: c.households,
    target: c.target,
    columns: result.size.columns,
    binaries: result.size.integers,
    rows: result.size.rows,
    buildS,
    solveS: result.timeS,
    solveCpuS: (solveCpuUsed.user + solveCpuUsed.system) / 1e6,
    totalS,
    status: result.status,
    objective: result.objective,
    bound: result.bound,
    relativeGap: result.relativeGap,
    absoluteGap: result.absoluteGap,
    baselineCost: Number(base.totals.costNano) / 1e9,
    planCost: plan ? Number(plan.totals.costNano) / 1e9 : Number.NaN,
    peakRssMb: rss,
    load,
    cbc,
  };
}

const self = fileURLToPath(import.meta.url);

if (process.argv[2] === '--child') {
  const c = CASES.find((x) => x.households === Number(process.argv[3]))!;
  process.send!(await measure(c));
} else {
  const record = process.argv.includes('--record');
  const header = `Measured ${machine()} with \`npm run bench:optimise\`; 1-minute load average at the start ${loadavg()[0]!.toFixed(1)} (the machine is shared with other sessions: above 2 on 2 CPUs every figure is slower).`;
  console.log(header);
  const rows: Figures[] = [];
  // `npm run bench:optimise -- 50` runs one size only.
  const only = process.argv.slice(2).map(Number).filter((n) => n > 0);
  for (const c of CASES.filter((x) => only.length === 0 || only.includes(x.households))) {
    const figures = await new Promise<Figures>((resolve, reject) => {
      const child = fork(self, ['--child', String(c.households)], { execArgv: ['--import', 'tsx'] });
      child.once('message', (m) => resolve(m as Figures));
      child.once('error', reject);
      child.once('exit', (code) => { if (code !== 0) reject(new Error(`child for ${c.households} households exited ${code}`)); });
    });
    rows.push(figures);
    console.log(JSON.stringify(figures));
  }
  const fmt = (v: number | null | undefined, d = 2) => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d));
  const table = [
    '| Households | Model (columns / binaries / rows) | Build (s) | HiGHS-js solve wall / CPU (s) | Status | Gap rel / abs (€) | Objective / bound (€) | Plan vs no plan (€) | Peak RSS (MB) | Load | Target | CBC native wall / CPU (s), status, objective | Ratio WASM/CBC wall / CPU |',
    '|---:|---|---:|---:|---|---|---|---|---:|---:|---|---|---:|',
    ...rows.map((r) => `| ${r.households} | ${r.columns.toLocaleString('en')} / ${r.binaries.toLocaleString('en')} / ${r.rows.toLocaleString('en')} | ${fmt(r.buildS)} | ${fmt(r.solveS)} / ${fmt(r.solveCpuS)} | ${r.status} | ${r.relativeGap === null ? '–' : `${(r.relativeGap * 100).toFixed(2)} %`} / ${fmt(r.absoluteGap)} | ${fmt(r.objective)} / ${fmt(r.bound)} | ${fmt(r.planCost)} vs ${fmt(r.baselineCost)} | ${r.peakRssMb} | ${r.load.toFixed(1)} | ${r.target} | ${r.cbc ? `${fmt(r.cbc.wallS)} / ${fmt(r.cbc.cpuS)}, ${r.cbc.status}, ${fmt(r.cbc.objective)}` : 'cbc not installed'} | ${r.cbc ? `${fmt(r.solveS / r.cbc.wallS)} / ${r.cbc.cpuS ? fmt(r.solveCpuS / r.cbc.cpuS) : '–'}` : '–'} |`),
  ].join('\n');
  console.log(table);
  if (record) recordSection('Optimisation', `${header}\n\n${table}`);
}
