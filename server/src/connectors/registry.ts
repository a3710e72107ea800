import type { TSchema } from 'typebox';
import type { ConnectorKind, ControlOutput, FinishOutput, RunContext, RunOutput, TestOutput } from './kind.js';

/**
 * Connector kinds by name. Each kind module registers itself when imported (the way evcc
 * registers its templates); `kinds/index.ts` imports them all.
 */
export interface RegisteredKind {
  readonly name: string;
  readonly summary: string;
  readonly configSchema: TSchema;
  readonly runsOn?: 'device' | undefined;
  readonly stateSchema: TSchema;
  readonly commandSchema?: TSchema | undefined;
  readonly initialState: unknown;
  readonly defaultTimeoutMs: number;
  configProblems(config: unknown): string[];
  test(config: unknown, context: RunContext, limit: number): Promise<TestOutput>;
  run(config: unknown, state: unknown, context: RunContext): Promise<RunOutput<unknown>>;
  finish?(config: unknown, state: unknown, context: RunContext): Promise<FinishOutput<unknown>>;
  control?(config: unknown, state: unknown, command: unknown, context: RunContext): Promise<ControlOutput<unknown>>;
}

const kinds = new Map<string, RegisteredKind>();

export function registerKind<C extends TSchema, S extends TSchema, K extends TSchema>(kind: ConnectorKind<C, S, K>): void {
  if (kinds.has(kind.name)) throw new Error(`connector kind ${kind.name} is registered twice`);
  // The harness calls a kind only with a configuration, state and command that passed the
  // kind's own schemas, which is what the typed signatures assume.
  kinds.set(kind.name, kind as unknown as RegisteredKind);
}

export function getKind(name: string): RegisteredKind | undefined {
  return kinds.get(name);
}

export function kindNames(): string[] {
  return [...kinds.keys()];
}

/** The kinds a community's instance may be (not those that run on a device only). */
export function instanceKindNames(): string[] {
  return [...kinds.values()].filter((kind) => kind.runsOn !== 'device').map((kind) => kind.name);
}
