import { readFileSync } from 'node:fs';
import * as highsModule from 'highs';
import '/work/wt-optimise/server/src/optimise/domain/assets/index.ts';
import { parseScenario } from '/work/wt-optimise/server/src/optimise/domain/scenario.ts';
import { buildModel, startFrom } from '/work/wt-optimise/server/src/optimise/domain/build.ts';
import { baseline } from '/work/wt-optimise/server/src/optimise/domain/plan.ts';
const load = highsModule.default as unknown as typeof highsModule.default.default;
const highs = await load();
const scenario = parseScenario(JSON.parse(readFileSync(process.argv[2]!, 'utf8')));
const built = buildModel(scenario);
const base = baseline(scenario);
const start = startFrom(built, base);
const m = built.model;
console.log('binaries', [...m.columns.integer].filter(Boolean).length, 'start values', start.indices.length);
// Fix the binaries to the start and solve the LP: is the baseline feasible in the model?
const lower = Float64Array.from(m.columns.lower), upper = Float64Array.from(m.columns.upper);
start.indices.forEach((j, k) => { lower[j] = start.values[k]!; upper[j] = start.values[k]!; });
const rows = m.rows.names.length;
const rl = new Float64Array(rows), ru = new Float64Array(rows);
for (let i = 0; i < rows; i++) { rl[i] = m.rows.sense[i] === '<=' ? -Infinity : m.rows.rhs[i]!; ru[i] = m.rows.sense[i] === '>=' ? Infinity : m.rows.rhs[i]!; }
const inst = highs.createModel({ numCols: m.columns.names.length, numRows: rows, colCost: m.columns.cost, colLower: lower, colUpper: upper, rowLower: rl, rowUpper: ru,
  matrix: { format: 'csr', numRows: rows, numCols: m.columns.names.length, starts: m.rows.starts, indices: m.rows.index, values: m.rows.value }, colNames: m.columns.names as string[], rowNames: m.rows.names as string[] });
inst.options.set({ output_flag: false });
inst.run();
console.log('fixed-start LP status', inst.getModelStatus());
if (inst.getModelStatus() !== 7) {
  const iis = inst.getIis();
  console.log('IIS rows', Array.from(iis.rowIndex, (i) => m.rows.names[i]).slice(0, 20), 'cols', Array.from(iis.colIndex, (i) => m.columns.names[i]).slice(0, 20));
}
for (const pattern of ['.start.', '.car.', '.heatpump.on', '.grid.importing', '.battery.charging']) {
  const lo = Float64Array.from(m.columns.lower), up = Float64Array.from(m.columns.upper);
  start.indices.forEach((j, k) => { if (m.columns.names[j]!.includes(pattern)) { lo[j] = start.values[k]!; up[j] = start.values[k]!; } });
  inst.changeColsBounds({ kind: 'range', from: 0, to: m.columns.names.length - 1 }, lo, up);
  inst.run();
  console.log(pattern, inst.getModelStatus());
}
