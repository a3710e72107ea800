import { randomInt } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { AgentConfigError, parseAgentConfig, type AgentConfig } from './domain/config.js';

/** agent.json as read from disk: the validated config and the raw object (rewritten with changes). */
export interface ConfigFile {
  readonly path: string;
  config: AgentConfig;
  raw: Record<string, unknown>;
}

export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AgentConfigError(path, `cannot read: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new AgentConfigError(path, `not JSON: ${(error as Error).message}`);
  }
  return { path, config: parseAgentConfig(raw), raw: raw as Record<string, unknown> };
}

/**
 * Changes a part of the agent section, validates the whole file again and replaces it
 * atomically (write, then rename): a crash never leaves half a config; the file holds keys, so
 * it stays readable by the agent's user only.
 */
export function updateAgentSection(file: ConfigFile, change: (agent: Record<string, unknown>) => void): void {
  const raw = structuredClone(file.raw);
  const agent = (typeof raw.agent === 'object' && raw.agent !== null ? raw.agent : {}) as Record<string, unknown>;
  change(agent);
  raw.agent = agent;
  const config = parseAgentConfig(raw);
  const tmp = `${file.path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(raw, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file.path);
  file.raw = raw;
  file.config = config;
}

/** The section object at `name` inside the agent section, created when missing. */
export function section(agent: Record<string, unknown>, name: string): Record<string, unknown> {
  const existing = agent[name];
  if (typeof existing === 'object' && existing !== null && !Array.isArray(existing)) return existing as Record<string, unknown>;
  const created: Record<string, unknown> = {};
  agent[name] = created;
  return created;
}

/** The queue lives next to the config unless the config says otherwise. */
export function storePath(file: ConfigFile): string {
  const configured = file.config.agent.store.path;
  if (configured) return isAbsolute(configured) ? configured : join(dirname(file.path), configured);
  return join(dirname(file.path), 'agent-queue.db');
}

/** A PIN for the local page, made once and kept in the config. */
export function ensurePin(file: ConfigFile): string {
  if (file.config.agent.web.pin) return file.config.agent.web.pin;
  const pin = String(randomInt(0, 1_000_000)).padStart(6, '0');
  updateAgentSection(file, (agent) => { section(agent, 'web').pin = pin; });
  return pin;
}
