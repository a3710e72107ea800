import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runOptimise } from '../../src/optimise/commands.js';
import { InfeasibleScenarioError } from '../../src/optimise/domain/build.js';
import { ScenarioError } from '../../src/optimise/domain/fields.js';
import { hour, oneSite } from './support.js';

/** `gridshare optimise`: files in, plan and LP out; bad input leaves nothing behind. */
const dir = mkdtempSync(join(tmpdir(), 'gridshare-optimise-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

const scenario = oneSite(4, [
  { type: 'load', id: 'base', powerW: 1000 },
  { type: 'appliance', id: 'wm', profileW: [1000, 500] },
], { importPrice: [0.4, 0.1, 0.2, 0.3] });

describe('gridshare optimise', () => {
  it('writes the plan and the exact LP model', async () => {
    const out = join(dir, 'plan.json');
    const lp = join(dir, 'model.lp');
    const summary = await runOptimise({ input: file('ok.json', scenario), out, exportLp: lp });
    expect(summary.status).toBe('optimal');
    // 1 kW × (0.4 + 0.1 + 0.2 + 0.3) + the washer at its best start (0.20) = 1.20.
    expect(summary.cost).toBe('1.20');
    expect(summary.baselineCost).toBe('1.45');
    expect(summary.saving).toBe('0.25');
    const plan = JSON.parse(readFileSync(out, 'utf8'));
    expect(plan.sites[0].assets[1].starts).toEqual([hour(1)]);
    expect(plan.members[0]).toMatchObject({ member: 'm1', total: { amount: '0.25' } });
    expect(plan.solve).toMatchObject({ status: 'optimal', size: { columns: summary.size.columns } });
    expect(readFileSync(lp, 'utf8')).toMatch(/^\\ test: \d+ variables/);
  });

  it('names the field of a bad scenario and writes nothing', async () => {
    const out = join(dir, 'bad-plan.json');
    const bad = oneSite(4, [{ type: 'storage', id: 'bat', capacityWh: 5000, maxChargeW: 2000, maxDischargeW: 2000, initialSoc: 'full' }]);
    await expect(runOptimise({ input: file('bad.json', bad), out })).rejects.toThrow(ScenarioError);
    await expect(runOptimise({ input: file('bad.json', bad), out })).rejects.toThrow('sites[0].assets[0].initialSoc: must be a finite number, found "full"');
    expect(existsSync(out)).toBe(false);
  });

  it('says why an infeasible scenario cannot be planned', async () => {
    const raw = oneSite(4, [{ type: 'appliance', id: 'wm', profileW: [1000, 500], readyBy: hour(1) }]);
    await expect(runOptimise({ input: file('infeasible.json', raw), out: join(dir, 'never.json') })).rejects.toThrow(InfeasibleScenarioError);
  });

  it('refuses files that are not JSON or do not exist', async () => {
    await expect(runOptimise({ input: file('text.json', '{"start": '), out: join(dir, 'x.json') })).rejects.toThrow(/is not JSON/);
    await expect(runOptimise({ input: join(dir, 'missing.json'), out: join(dir, 'x.json') })).rejects.toThrow(/does not exist/);
  });

  it('runs from the command line with --json', { timeout: 60_000 }, () => {
    const out = join(dir, 'cli-plan.json');
    const bin = new URL('../../bin/gridshare.js', import.meta.url).pathname;
    const run = spawnSync(process.execPath, [bin, 'optimise', '--input', file('cli.json', scenario), '--out', out, '--time-limit', '10', '--json', '--quiet'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'optimal', cost: '1.20', currency: 'EUR' });
    const refused = spawnSync(process.execPath, [bin, 'optimise', '--input', file('cli.json', scenario), '--out', out, '--time-limit', 'soon'], { encoding: 'utf8' });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/--time-limit must be a number/);
  });
});
