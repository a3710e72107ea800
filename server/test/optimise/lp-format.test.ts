import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeLp } from '../../src/optimise/domain/lp-format.js';
import { ModelBuilder } from '../../src/optimise/domain/model.js';
import { hour, inProcessHighs, oneSite, solveScenario } from './support.js';

/** The exported LP is the model: another reader of it finds the same optimum. */
const cbc = spawnSync('cbc', ['-quit'], { encoding: 'utf8' });
const cbcPresent = cbc.status === 0 || /Coin/i.test(`${cbc.stdout}${cbc.stderr}`);
if (!cbcPresent) process.stderr.write('optimise: cbc (Debian coinor-cbc) not found: the LP export is checked with HiGHS only\n');

const dir = mkdtempSync(join(tmpdir(), 'gridshare-lp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small community with every asset, binaries of every kind and a time-of-use tariff. */
const scenario = {
  name: 'lp-check', start: hour(0), steps: 8, stepMinutes: 60, timeZone: 'Europe/Vienna',
  community: { grid: { co2GPerKWh: 300, peak: { pricePerKw: 0.5 } } },
  objective: { cost: 1, co2PerKg: 0.05 },
  sites: [
    {
      id: 'house-1', member: 'm1',
      grid: { importPrice: { default: '0.30', periods: [{ from: '04:00', to: '07:00', price: '0.12' }] }, exportPrice: [0.08, 0.08, 0.35, 0.08, 0.08, 0.08, -0.02, 0.08] },
      assets: [
        { type: 'load', id: 'base', powerW: [400, 300, 300, 500, 900, 700, 400, 300] },
        { type: 'producer', id: 'pv', forecastW: [0, 0, 1500, 3000, 3500, 2000, 2500, 0], curtailable: true },
        { type: 'storage', id: 'bat', capacityWh: 5000, maxChargeW: 2500, maxDischargeW: 2500, initialSoc: 0.3 },
        { type: 'appliance', id: 'wm', profileW: [2000, 500, 800], earliestStart: hour(1), readyBy: hour(7) },
        { type: 'ev', id: 'car', capacityWh: 40000, maxPowerW: 7400, minPowerW: 1400, sessions: [{ arrival: hour(2), departure: hour(8), socAtConnectionWh: 10000, energyNeededWh: 12000 }] },
      ],
    },
    {
      id: 'house-2', member: 'm2', grid: { importPrice: 0.28, exportPrice: 0.07 },
      assets: [{ type: 'heat-pump', id: 'hp', maxElectricW: 2500, minElectricW: 800, cop: [3, 3, 3.2, 3.4, 3.5, 3.3, 3.1, 3], tankVolumeL: 200, tempMinC: 42, tempMaxC: 58, initialTempC: 48, lossWPerK: 2, heatDemandW: [300, 300, 2500, 500, 300, 300, 2000, 300], startCost: 0.03 }],
    },
  ],
};

describe('CPLEX LP export', () => {
  it('writes bounds, senses, binaries and the objective constant as the LP format has them', () => {
    const m = new ModelBuilder('tiny');
    const x = m.variable('x', { upper: 4, cost: 1.5 });
    const y = m.variable('y', { lower: Number.NEGATIVE_INFINITY, upper: 5, cost: -2 });
    const z = m.variable('z', { lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY });
    const f = m.variable('f', { lower: 3, upper: 3 });
    const b = m.binary('b', 0.25);
    m.addObjectiveConstant(7);
    m.constraint('c1', [[x, 1], [y, -1], [x, 2]], '<=', 10);
    m.constraint('c2', [[y, 1], [z, 1e-7], [b, -3]], '>=', -1.5);
    m.constraint('c3', [[z, 1], [f, 1]], '=', 0);
    expect(writeLp(m.build())).toBe([
      '\\ tiny: 5 variables, 3 constraints (written by Gridshare)',
      'Minimize',
      ' obj: + 1.5 x - 2 y + 0.25 b + 7 objective_constant',
      'Subject To',
      ' c1: + 3 x - 1 y <= 10',
      ' c2: + 1 y + 1e-7 z - 3 b >= -1.5',
      ' c3: + 1 z + 1 f = 0',
      'Bounds',
      ' 0 <= x <= 4',
      ' -inf <= y <= 5',
      ' z free',
      ' f = 3',
      ' 0 <= b <= 1',
      ' objective_constant = 1',
      'General',
      'b',
      'End',
      '',
    ].join('\n'));
  });

  it('is solved by HiGHS and by CBC to the optimum of the model', { timeout: 120_000 }, async () => {
    const solved = await solveScenario(scenario);
    expect(solved.built.gridBinaries).toBeGreaterThan(0);
    const optimum = solved.result.objective!;
    const lp = writeLp(solved.built.model);
    const path = join(dir, 'model.lp');
    writeFileSync(path, lp);

    // HiGHS reading the text, not the arrays.
    const highs = await inProcessHighs();
    const fromText = highs.solve(lp, { mip_rel_gap: 0, mip_abs_gap: 0, output_flag: false });
    expect(fromText.Status).toBe('Optimal');
    expect(fromText.ObjectiveValue).toBeCloseTo(optimum, 6);
    expect(Object.keys(fromText.Columns)).toHaveLength(solved.result.size.columns);

    if (!cbcPresent) return;
    const run = spawnSync('cbc', [path, 'ratio', '0', 'allow', '0', 'solve', 'quit'], { encoding: 'utf8', timeout: 100_000 });
    const match = /Objective value:\s+(-?[\d.e+-]+)/.exec(run.stdout);
    expect(run.stdout).toMatch(/Optimal solution found/);
    expect(Number(match?.[1])).toBeCloseTo(optimum, 5);
  });
});
