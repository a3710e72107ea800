import { readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';

/** Where the CPU time of a benchmark phase went, per process (Linux /proc; empty elsewhere). */
const TICKS_PER_SECOND = 100;

function ticksOf(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Process ids whose command name is `name` (e.g. the local broker). */
export function pidsNamed(name: string): number[] {
  try {
    return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name;
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}

function systemTicks(): { total: number; idle: number; iowait: number } | undefined {
  try {
    const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const n = values.map(Number);
    return { total: n.slice(0, 8).reduce((a, b) => a + b, 0), idle: n[3]!, iowait: n[4]! };
  } catch {
    return undefined;
  }
}

export interface CpuSnapshot {
  readonly at: number;
  readonly groups: ReadonlyMap<string, ReadonlyMap<number, number>>;
  readonly system: ReturnType<typeof systemTicks>;
  readonly loadAverage: number;
}

export function cpuSnapshot(groups: Record<string, readonly number[]>): CpuSnapshot {
  return {
    at: performance.now(),
    groups: new Map(Object.entries(groups).map(([name, pids]) => [name, new Map(pids.map((pid) => [pid, ticksOf(pid) ?? 0]))])),
    system: systemTicks(),
    loadAverage: loadavg()[0]!,
  };
}

export interface CpuUse {
  /** Per group: share of one core over the phase (1 = a whole core). */
  readonly cores: Record<string, number>;
  readonly iowait: number | undefined;
  readonly idle: number | undefined;
  /** 1-minute load average when the phase started: the machine is shared. */
  readonly loadAverage: number;
}

/** CPU used between two snapshots; a process that appears only in `end` counts from zero. */
export function cpuBetween(start: CpuSnapshot, end: CpuSnapshot): CpuUse {
  const seconds = (end.at - start.at) / 1000;
  const cores: Record<string, number> = {};
  for (const [name, pids] of end.groups) {
    let ticks = 0;
    for (const [pid, t] of pids) ticks += t - (start.groups.get(name)?.get(pid) ?? 0);
    cores[name] = ticks / TICKS_PER_SECOND / seconds;
  }
  const s0 = start.system;
  const s1 = end.system;
  const span = s0 && s1 ? s1.total - s0.total : 0;
  return {
    cores,
    iowait: s0 && s1 && span > 0 ? (s1.iowait - s0.iowait) / span : undefined,
    idle: s0 && s1 && span > 0 ? (s1.idle - s0.idle) / span : undefined,
    loadAverage: start.loadAverage,
  };
}
