import type { Problem } from './readings.js';

/**
 * Choosing which files of a folder a CSV connector reads, and what becomes of them after.
 */
export interface ListedFile {
  readonly name: string;
  readonly size: number;
  readonly modifiedMs: number;
}

/** `*.csv`, `export_??.txt`: `*` and `?` within a name; case-sensitive like the servers. */
export function globToRegExp(pattern: string): RegExp {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]*').replaceAll('?', '[^/]');
  return new RegExp(`^${source}$`);
}

/** Identifies a file's version: a file written again under the same name is read again. */
export function fileFingerprint(file: ListedFile): string {
  return `${file.name}/${file.size}/${Math.floor(file.modifiedMs / 1000)}`;
}

export interface FileSelection {
  readonly pattern: string;
  /** Fingerprints already read (when files are kept in place). */
  readonly processed: ReadonlySet<string>;
  readonly maxFiles: number;
  /** Names that are our own: renamed, failed and error-report files are never read as input. */
  readonly ownSuffixes: readonly string[];
}

/** The files to read this run, oldest name first (exports are named by date). */
export function selectFiles(listing: readonly ListedFile[], selection: FileSelection): ListedFile[] {
  const matches = globToRegExp(selection.pattern);
  return listing
    .filter((f) => matches.test(f.name) && !selection.ownSuffixes.some((s) => f.name.endsWith(s)) && !selection.processed.has(fileFingerprint(f)))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, selection.maxFiles);
}

/** The text kept next to a failed file: when, and each problem on its own line. */
export function errorReport(fileName: string, problems: readonly Problem[], atIso: string, goodReadings: number): string {
  const lines = [
    `# ${fileName}: read by Gridshare at ${atIso}`,
    `# ${goodReadings} readings from good rows were taken; ${problems.length} problems:`,
    ...problems.map((p) => `${p.where}: ${p.message}`),
  ];
  return `${lines.join('\n')}\n`;
}
