import type { MilpModel } from './model.js';

/**
 * The model in CPLEX LP format, row for row and bound for bound, so another solver (CBC, GLPK,
 * CPLEX, native HiGHS) solves exactly what HiGHS-js solved. Numbers are written as JavaScript's
 * shortest round-trip form, so every coefficient reads back as the same double. The LP format
 * has no objective constant everywhere, so a non-zero offset becomes a variable fixed at 1.
 */

/** Lines are wrapped well below the 255/560-character limits some readers have. */
const LINE_WIDTH = 120;
const OFFSET_VARIABLE = 'objective_constant';

function num(value: number): string {
  return String(value);
}

function signed(value: number): string {
  return value < 0 ? `- ${num(-value)}` : `+ ${num(value)}`;
}

export function writeLp(model: MilpModel): string {
  const { columns, rows } = model;
  const out: string[] = [];
  out.push(`\\ ${model.name}: ${columns.names.length} variables, ${rows.names.length} constraints (written by Gridshare)`);
  out.push('Minimize');
  const objective: string[] = [];
  for (let j = 0; j < columns.names.length; j++) {
    const c = columns.cost[j]!;
    if (c !== 0) objective.push(`${signed(c)} ${columns.names[j]}`);
  }
  if (model.objectiveOffset !== 0) objective.push(`${signed(model.objectiveOffset)} ${OFFSET_VARIABLE}`);
  // An empty objective still needs a term for some readers.
  if (objective.length === 0) objective.push(`+ 0 ${columns.names[0] ?? OFFSET_VARIABLE}`);
  wrap(out, ' obj:', objective);

  out.push('Subject To');
  for (let i = 0; i < rows.names.length; i++) {
    const terms: string[] = [];
    for (let k = rows.starts[i]!; k < rows.starts[i + 1]!; k++) terms.push(`${signed(rows.value[k]!)} ${columns.names[rows.index[k]!]}`);
    // A row whose coefficients all vanished still says what it demands of nothing: 0 (sense) rhs.
    if (terms.length === 0) terms.push(`+ 0 ${columns.names[0] ?? OFFSET_VARIABLE}`);
    terms.push(`${rows.sense[i]} ${num(rows.rhs[i]!)}`);
    wrap(out, ` ${rows.names[i]}:`, terms);
  }

  out.push('Bounds');
  for (let j = 0; j < columns.names.length; j++) {
    const name = columns.names[j]!;
    const lower = columns.lower[j]!;
    const upper = columns.upper[j]!;
    if (lower === upper) out.push(` ${name} = ${num(lower)}`);
    else if (lower === Number.NEGATIVE_INFINITY && upper === Number.POSITIVE_INFINITY) out.push(` ${name} free`);
    else {
      const low = lower === Number.NEGATIVE_INFINITY ? '-inf' : num(lower);
      const high = upper === Number.POSITIVE_INFINITY ? '+inf' : num(upper);
      // The default is [0, +inf); everything else is written in full.
      if (!(lower === 0 && upper === Number.POSITIVE_INFINITY)) out.push(` ${low} <= ${name} <= ${high}`);
    }
  }
  if (model.objectiveOffset !== 0) out.push(` ${OFFSET_VARIABLE} = 1`);

  const binaries: string[] = [];
  for (let j = 0; j < columns.names.length; j++) if (columns.integer[j]) binaries.push(columns.names[j]!);
  if (binaries.length > 0) {
    // Binaries are declared as general integers within their written [0, 1] bounds: the
    // "Binary" section would also reset their bounds, which fixings in the model may narrow.
    out.push('General');
    wrap(out, '', binaries);
  }
  out.push('End');
  return `${out.join('\n')}\n`;
}

function wrap(out: string[], head: string, parts: readonly string[]): void {
  let line = head;
  for (const part of parts) {
    if (line.length + part.length + 1 > LINE_WIDTH && line.trim() !== '' && line !== head) {
      out.push(line);
      line = '  ';
    }
    line += line === '' || line.endsWith(' ') ? part : ` ${part}`;
  }
  out.push(line);
}
