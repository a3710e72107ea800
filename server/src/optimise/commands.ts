import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { BadRequestError } from '../kernel/errors.js';
import { InfeasibleScenarioError } from './domain/build.js';
import { writeLp } from './domain/lp-format.js';
import { modelSize } from './domain/model.js';
import { parseScenario } from './domain/scenario.js';
import type { SolveSettings } from './domain/solve-report.js';
import { optimise } from './optimise.js';

/**
 * `gridshare optimise`: plans a scenario file offline (no server) and writes the plan as JSON;
 * `--export-lp` also writes the exact model in CPLEX LP format for another solver.
 */
export const MAX_SCENARIO_BYTES = 64 * 1024 * 1024;

export interface OptimiseCommandOptions {
  readonly input: string;
  readonly out: string;
  readonly exportLp?: string | undefined;
  readonly settings?: Partial<SolveSettings>;
  /** Progress lines (stderr in the CLI). */
  readonly progress?: ((line: string, final: boolean) => void) | undefined;
}

export interface OptimiseSummary {
  readonly scenario: string;
  readonly out: string;
  readonly lp: string | null;
  readonly status: string;
  readonly message: string;
  readonly objective: number | null;
  readonly bound: number | null;
  readonly relativeGap: number | null;
  readonly absoluteGap: number | null;
  readonly solveTimeS: number;
  readonly size: ReturnType<typeof modelSize>;
  readonly cost: string | null;
  readonly baselineCost: string | null;
  readonly saving: string | null;
  readonly currency: string;
}

export class OptimiseInputError extends BadRequestError {}

async function writeAtomically(path: string, content: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, content);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

export async function runOptimise(options: OptimiseCommandOptions): Promise<OptimiseSummary> {
  const size = await stat(options.input).catch(() => {
    throw new OptimiseInputError(`scenario file ${options.input} does not exist or cannot be read`);
  });
  if (size.size > MAX_SCENARIO_BYTES) throw new OptimiseInputError(`scenario file ${options.input} is larger than ${MAX_SCENARIO_BYTES / 1024 / 1024} MB`);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(options.input, 'utf8'));
  } catch (error) {
    throw new OptimiseInputError(`scenario file ${options.input} is not JSON: ${(error as Error).message}`);
  }
  const scenario = parseScenario(raw);
  const progress = options.progress;
  let timer: NodeJS.Timeout | undefined;
  const started = performance.now();
  const outcome = await optimise(scenario, {
    settings: options.settings ?? {},
    onBuilt: (built) => {
      const s = modelSize(built.model);
      progress?.(`built ${s.columns.toLocaleString('en')} variables (${s.integers.toLocaleString('en')} binary), ${s.rows.toLocaleString('en')} constraints`, false);
      const limit = options.settings?.timeLimitS ?? scenario.solver.timeLimitS ?? 30;
      if (progress) {
        timer = setInterval(() => progress(`solving… ${((performance.now() - started) / 1000).toFixed(0)} s (limit ${limit} s)`, false), 1000);
      }
    },
  }).finally(() => clearInterval(timer));
  if (options.exportLp) await writeAtomically(options.exportLp, writeLp(outcome.built.model));
  const { result, document } = outcome;
  progress?.(`${result.status} in ${result.timeS.toFixed(1)} s`, true);
  if (!document) {
    const reasons = outcome.problems?.length ? `: ${outcome.problems.join('; ')}` : '';
    throw new OptimiseInputError(`no plan (${result.status}): ${result.message}${reasons}`);
  }
  await writeAtomically(options.out, `${JSON.stringify(document, null, 1)}\n`);
  return {
    scenario: scenario.name,
    out: options.out,
    lp: options.exportLp ?? null,
    status: result.status,
    message: result.message,
    objective: result.objective,
    bound: result.bound,
    relativeGap: result.relativeGap,
    absoluteGap: result.absoluteGap,
    solveTimeS: Number(result.timeS.toFixed(3)),
    size: result.size,
    cost: document.totals.cost.amount,
    baselineCost: document.baseline.cost.amount,
    saving: document.savings.cost.amount,
    currency: document.currency,
  };
}

function positive(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0) || n > max) throw new InvalidArgumentError(`${name} must be a number above 0 and at most ${max}`);
    return n;
  };
}

function formatSummary(s: OptimiseSummary): string {
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)} %`);
  return [
    `Planned ${s.scenario}: ${s.status} (${s.message}) in ${s.solveTimeS} s`,
    `  model ${s.size.columns.toLocaleString('en')} variables (${s.size.integers.toLocaleString('en')} binary), ${s.size.rows.toLocaleString('en')} constraints, ${s.size.nonzeros.toLocaleString('en')} nonzeros`,
    `  objective ${s.objective?.toFixed(4) ?? 'n/a'}, bound ${s.bound?.toFixed(4) ?? 'n/a'}, gap ${pct(s.relativeGap)} / ${s.absoluteGap?.toFixed(4) ?? 'n/a'} ${s.currency}`,
    `  cost ${s.cost} ${s.currency} (without optimisation ${s.baselineCost} ${s.currency}, saving ${s.saving} ${s.currency})`,
    `  plan written to ${s.out}${s.lp ? `, model to ${s.lp}` : ''}`,
  ].join('\n');
}

export function registerOptimiseCommand(program: Command): void {
  program
    .command('optimise')
    .description('Plan a community offline: a scenario JSON in (assets, forecasts, prices), a plan JSON out (see server/src/optimise/README.md)')
    .requiredOption('--input <file>', 'scenario JSON')
    .requiredOption('--out <file>', 'plan JSON to write')
    .option('--export-lp <file>', 'also write the exact model in CPLEX LP format')
    .option('--time-limit <seconds>', 'solver time limit (default 30, or the scenario\'s)', positive('--time-limit', 3600))
    .option('--gap <fraction>', 'relative gap to stop at (default 0.005)', positive('--gap', 1))
    .option('--abs-gap <amount>', 'absolute gap in currency units to stop at (default 1)', positive('--abs-gap', 1e9))
    .option('--json', 'print the summary as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts: { input: string; out: string; exportLp?: string; timeLimit?: number; gap?: number; absGap?: number; json: boolean; quiet: boolean }) => {
      const tty = process.stderr.isTTY === true;
      try {
        const summary = await runOptimise({
          input: opts.input,
          out: opts.out,
          exportLp: opts.exportLp,
          settings: {
            ...(opts.timeLimit === undefined ? {} : { timeLimitS: opts.timeLimit }),
            ...(opts.gap === undefined ? {} : { relativeGap: opts.gap }),
            ...(opts.absGap === undefined ? {} : { absoluteGap: opts.absGap }),
          },
          progress: opts.quiet ? undefined : (line, final) => process.stderr.write(tty ? `\r\x1b[2K${line}${final ? '\n' : ''}` : `${line}\n`),
        });
        process.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\n`);
      } catch (error) {
        if (error instanceof InfeasibleScenarioError) {
          throw new Error(`the scenario cannot be planned:\n${error.problems.map((p) => `  ${p.site ?? 'community'}/${p.asset}${p.at ? ` at ${p.at}` : ''}: ${p.reason}`).join('\n')}`);
        }
        throw error;
      }
    });
}
