import '../server/src/optimise/domain/assets/index.ts';
import { buildModel } from '../server/src/optimise/domain/build.ts';
import { parseScenario } from '../server/src/optimise/domain/scenario.ts';
import { generateCommunity } from '../server/src/optimise/generate.ts';
import { loadHighs, solve } from '../server/src/optimise/solver-thread.ts';
const highs = await loadHighs();
for (const n of [3, 6, 8]) {
  const built = buildModel(parseScenario(generateCommunity({ households: n, seed: 7 })));
  const t = performance.now();
  const r = solve(highs, { id: 1, model: built.model, settings: { timeLimitS: Number(process.argv[2] ?? 0.001), relativeGap: Number(process.argv[3] ?? 0), absoluteGap: 0 } });
  console.log(n, r.status, r.message, r.objective, r.bound, r.relativeGap, ((performance.now() - t) / 1000).toFixed(2));
}
