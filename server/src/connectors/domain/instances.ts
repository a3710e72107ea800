/**
 * Pure rules of connector instances: where their secrets are in a configuration, when they run
 * next, and which of their readings go to which device.
 */

/** A connector's target (an output such as `inverter`, or a mapping's target) written as a device's readings. */
export interface Binding {
  readonly target: string;
  readonly deviceId: string;
}

/** Secret values by JSON pointer (`/auth/clientSecret`, `/steps/0/headers/x`). */
export type SecretValues = Readonly<Record<string, string>>;

type Json = Record<string, unknown> | unknown[];
const isContainer = (value: unknown): value is Json => typeof value === 'object' && value !== null;

/**
 * The concrete pointers of a configuration matching the secret paths of its schema (`*` for
 * every item of an array), where a string is set.
 */
function concretePaths(patterns: readonly string[], config: unknown): string[] {
  const found: string[] = [];
  const walk = (node: unknown, parts: readonly string[], at: string): void => {
    if (parts.length === 0) {
      if (typeof node === 'string') found.push(at);
      return;
    }
    if (!isContainer(node)) return;
    const [head, ...rest] = parts as [string, ...string[]];
    if (head === '*') {
      if (Array.isArray(node)) node.forEach((item, i) => walk(item, rest, `${at}/${i}`));
      return;
    }
    if (!Array.isArray(node) && head in node) walk(node[head], rest, `${at}/${head}`);
  };
  for (const pattern of patterns) walk(config, pattern.split('/').slice(1), '');
  return [...new Set(found)];
}

function parentAndKey(root: unknown, pointer: string): { parent: Json; key: string } | undefined {
  const parts = pointer.split('/').slice(1);
  let node = root;
  for (const part of parts.slice(0, -1)) {
    if (!isContainer(node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return isContainer(node) ? { parent: node, key: parts.at(-1)! } : undefined;
}

/** The configuration without its secrets, and the secrets by pointer. */
export function splitSecrets(patterns: readonly string[], config: unknown): { config: unknown; secrets: SecretValues } {
  const copy = structuredClone(config);
  const secrets: Record<string, string> = {};
  for (const pointer of concretePaths(patterns, copy)) {
    const place = parentAndKey(copy, pointer)!;
    const record = place.parent as Record<string, unknown>;
    secrets[pointer] = record[place.key] as string;
    delete record[place.key];
  }
  return { config: copy, secrets };
}

/**
 * The configuration with the given secrets put back where their place exists and nothing is set
 * (a change that leaves a secret out keeps the stored one).
 */
export function withSecrets(config: unknown, secrets: SecretValues): unknown {
  const copy = structuredClone(config);
  for (const [pointer, value] of Object.entries(secrets)) {
    const place = parentAndKey(copy, pointer);
    if (!place || Array.isArray(place.parent)) continue;
    if (place.parent[place.key] === undefined) place.parent[place.key] = value;
  }
  return copy;
}

export const MAX_BACKOFF_S = 3_600;

/**
 * When an instance runs next (epoch ms), from the end of a run: at once when a batch limit left
 * more to read; after a failure its interval × 2^failures in a row, at most an hour; otherwise its
 * interval plus a random share of its jitter (`random` in [0, 1)), so instances started together
 * spread out.
 */
export function nextRunAt(input: {
  readonly endedAt: number; readonly intervalS: number; readonly jitterS: number; readonly failuresInRow: number; readonly more: boolean; readonly random: number;
}): number {
  if (input.failuresInRow > 0) return input.endedAt + Math.min(input.intervalS * 2 ** input.failuresInRow, Math.max(MAX_BACKOFF_S, input.intervalS)) * 1_000;
  if (input.more) return input.endedAt;
  return input.endedAt + (input.intervalS + Math.floor(input.random * (input.jitterS + 1))) * 1_000;
}

/** Bindings that cannot work together: a target bound twice. Each message names the binding. */
export function bindingProblems(bindings: readonly Binding[]): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  bindings.forEach((binding, i) => {
    if (seen.has(binding.target)) problems.push(`bindings/${i}/target: "${binding.target}" is bound twice`);
    seen.add(binding.target);
  });
  return problems;
}

/** The readings of each bound device, and the targets no binding names (their readings are not stored). */
export function readingsByDevice<R extends { readonly target: string }>(readings: readonly R[], bindings: readonly Binding[]): { byDevice: Map<string, R[]>; unbound: string[] } {
  const deviceOf = new Map(bindings.map((b) => [b.target, b.deviceId]));
  const byDevice = new Map<string, R[]>();
  const unbound = new Set<string>();
  for (const reading of readings) {
    const deviceId = deviceOf.get(reading.target);
    if (deviceId === undefined) {
      unbound.add(reading.target);
      continue;
    }
    const list = byDevice.get(deviceId) ?? [];
    list.push(reading);
    byDevice.set(deviceId, list);
  }
  return { byDevice, unbound: [...unbound] };
}
