import { cpus } from 'node:os';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const RESULTS = fileURLToPath(new URL('../RESULTS.md', import.meta.url));

export function machine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpus().length} CPUs (${cpu}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
}

export function peakRssMb(): number {
  // maxRSS is in kilobytes.
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Replaces (or appends) one `## Title` section of bench/RESULTS.md, leaving the others alone. */
export function recordSection(title: string, body: string): void {
  const text = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmark results\n';
  const heading = `## ${title}\n`;
  const start = text.indexOf(heading);
  const section = `${heading}\n${body.trim()}\n\n`;
  if (start < 0) {
    writeFileSync(RESULTS, `${text.trimEnd()}\n\n${section}`);
    return;
  }
  const next = text.indexOf('\n## ', start + heading.length);
  writeFileSync(RESULTS, text.slice(0, start) + section + (next < 0 ? '' : text.slice(next + 1)));
}
