import { afterAll, describe, expect, it } from 'vitest';
import '../../src/optimise/domain/assets/index.js';
import { buildModel, startFrom } from '../../src/optimise/domain/build.js';
import { ModelBuilder, worstViolation } from '../../src/optimise/domain/model.js';
import { baseline } from '../../src/optimise/domain/plan.js';
import { parseScenario } from '../../src/optimise/domain/scenario.js';
import { warmStartFrom } from '../../src/optimise/domain/warm-start.js';
import { generateCommunity } from '../../src/optimise/generate.js';
import { optimise } from '../../src/optimise/optimise.js';
import { Solver } from '../../src/optimise/solver.js';

/** The solver runner: HiGHS in a worker thread, its statuses, limits, starts and queue. */
const solver = new Solver();
afterAll(() => solver.close());

const community = (households: number) => parseScenario(generateCommunity({ households, seed: 7 }));

describe('solver runner (worker thread)', () => {
  it('solves in a worker while the event loop keeps running', { timeout: 120_000 }, async () => {
    const built = buildModel(community(3));
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 5);
    const result = await solver.solve(built.model, { timeLimitS: 60, relativeGap: 0.005, absoluteGap: 0 });
    clearInterval(timer);
    expect(result.status).toBe('optimal');
    expect(result.relativeGap).toBeLessThanOrEqual(0.005);
    expect(result.size.integers).toBeGreaterThan(100);
    expect(worstViolation(built.model, result.solution!).amount).toBeLessThan(1e-6);
    // A solve on the event loop would have let no timer fire until it returned.
    expect(ticks).toBeGreaterThan(3);
  });

  it('reports size, bound, both gaps and the settings with every result', { timeout: 120_000 }, async () => {
    const built = buildModel(community(4));
    const result = await solver.solve(built.model, { timeLimitS: 30, relativeGap: 0.5, absoluteGap: 1000 });
    expect(result.status).toBe('optimal');
    expect(result.settings).toEqual({ timeLimitS: 30, relativeGap: 0.5, absoluteGap: 1000 });
    expect(result.bound).not.toBeNull();
    expect(result.objective! - result.bound!).toBeCloseTo(result.absoluteGap!, 9);
    expect(result.absoluteGap!).toBeLessThanOrEqual(1000);
    expect(result.size.columns).toBe(built.model.columns.names.length);
    expect(result.solver).toMatch(/^HiGHS \d+\.\d+/);
  });

  it('uses the best plan found when the time runs out, and rounds the relaxation when there is none', { timeout: 120_000 }, async () => {
    const built = buildModel(community(6));
    // Far too little time to search: the plan comes from rounding the LP relaxation.
    const rounded = await solver.solve(built.model, { timeLimitS: 0.001, relativeGap: 0, absoluteGap: 0 });
    expect(rounded.status).toBe('rounded-relaxation');
    expect(worstViolation(built.model, rounded.solution!).amount).toBeLessThan(1e-5);
    expect(rounded.objective!).toBeGreaterThanOrEqual(rounded.bound! - 1e-9);
    // With a start (what the assets do without a plan), the start is the incumbent at least.
    const start = startFrom(built, baseline(built.scenario));
    const started = await solver.solve(built.model, { timeLimitS: 0.001, relativeGap: 0, absoluteGap: 0 }, start);
    expect(['time-limit', 'optimal']).toContain(started.status);
    expect(started.warmStart).toBe(true);
    expect(worstViolation(built.model, started.solution!).amount).toBeLessThan(1e-5);
  });

  it('reports an infeasible model with the constraints in conflict', async () => {
    const m = new ModelBuilder('conflict');
    const x = m.variable('site.battery.c.t0', { upper: 2 });
    const y = m.binary('site.wm.start.t0');
    m.constraint('site.battery.need.t0', [[x, 1], [y, 1]], '>=', 5);
    const result = await solver.solve(m.build());
    expect(result.status).toBe('infeasible');
    expect(result.solution).toBeNull();
    expect(result.conflict).toContain('site.battery.need.t0');
  });

  it('queues solves in its one worker', { timeout: 120_000 }, async () => {
    const a = buildModel(community(2));
    const b = buildModel(community(3));
    const [ra, rb] = await Promise.all([solver.solve(a.model), solver.solve(b.model)]);
    expect(ra.size.columns).toBe(a.model.columns.names.length);
    expect(rb.size.columns).toBe(b.model.columns.names.length);
  });
});

describe('warm start from the previous plan', () => {
  it('finds each value under its step in a horizon that starts later', () => {
    const m = new ModelBuilder('next');
    m.variable('h1.bat.e.t0', { upper: 10 });
    m.variable('h1.bat.e.t1', { upper: 10 });
    m.binary('h1.wm.start.t0');
    m.variable('community.grid.peak', { upper: 100 });
    const next = m.build();
    const previous = {
      startMs: 0, stepMs: 900_000,
      names: ['h1.bat.e.t0', 'h1.bat.e.t1', 'h1.bat.e.t2', 'h1.wm.start.t1', 'community.grid.peak'],
      values: Float64Array.from([1, 2, 30, 0.9999999, 7]),
    };
    const start = warmStartFrom(previous, next, 900_000);
    // t1 → t0, t2 → t1 (clipped into [0, 10]); the binary is rounded; the peak keeps its name.
    expect(Array.from(start.indices)).toEqual([0, 1, 2, 3]);
    expect(Array.from(start.values)).toEqual([2, 10, 1, 7]);
  });

  it('re-plans from the previous solution', { timeout: 120_000 }, async () => {
    const raw = generateCommunity({ households: 3, seed: 3 });
    const first = await optimise(parseScenario(raw), { solver, settings: { timeLimitS: 30 } });
    const later = { ...raw, start: '2026-06-01T10:15:00Z' };
    // The same community a quarter of an hour later (forecasts shifted by construction of the generator).
    const second = await optimise(parseScenario(later), { solver, previous: first.solution!, settings: { timeLimitS: 30 } });
    expect(second.result.warmStart).toBe(true);
    expect(second.document).toBeDefined();
  });
});
