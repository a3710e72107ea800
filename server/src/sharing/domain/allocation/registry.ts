import { runPerHour, runPerInterval, type IntervalKernel } from './engine.js';
import { PROPORTIONAL, type ProducerAttribution } from './producers.js';
import { AllocationInputError, type AllocationResult, type IntervalMatrix, type ShareSchedule } from './types.js';

/**
 * Allocation rules by name. Each rule module registers itself when imported (the way evcc
 * registers its device adapters), and `./index.ts` imports them all; callers look rules up
 * by the name a community stores (see registry/allocation-rules.ts).
 */

/** Parameters a rule may take; each rule reads what it needs. */
export interface RuleConfig {
  /** Share key (constant or varying per period) bound to the input's members. */
  readonly shares?: ShareSchedule | undefined;
  /** static-redistributed: redistribute leftovers in proportion to shares (default) or consumption. */
  readonly redistribution?: 'shares' | 'consumption' | undefined;
  /** How the producers' side is split; proportional to export unless a rule says otherwise. */
  readonly producers?: ProducerAttribution | undefined;
}

/** What a rule needs besides the metered data. */
export type RuleNeeds = 'nothing' | 'shares' | 'coefficients';

export interface Allocator {
  readonly rule: string;
  /** `hour` rules settle per UTC hour: give them whole hours (see chunkBoundaries). */
  readonly granularity: 'interval' | 'hour';
  allocate(input: IntervalMatrix, out?: AllocationResult): AllocationResult;
}

export interface RuleDefinition {
  readonly name: string;
  readonly summary: string;
  /** `shares`: a key (from a shares file or a coefficients file); `coefficients`: a varying key. */
  readonly needs: RuleNeeds;
  /** ISO country code for presets. */
  readonly country?: string;
  create(config: RuleConfig): Allocator;
}

const rules = new Map<string, RuleDefinition>();

export function registerRule(definition: RuleDefinition): void {
  if (rules.has(definition.name)) throw new Error(`allocation rule ${definition.name} is registered twice`);
  rules.set(definition.name, definition);
}

export function getRule(name: string): RuleDefinition | undefined {
  return rules.get(name);
}

export function ruleNames(): string[] {
  return [...rules.keys()];
}

export function ruleDefinitions(): RuleDefinition[] {
  return [...rules.values()];
}

/** Looks a rule up and builds it; unknown names and missing parameters are input errors. */
export function createAllocator(name: string, config: RuleConfig = {}): Allocator {
  const rule = rules.get(name);
  if (!rule) throw new AllocationInputError(`unknown allocation rule "${name}" (known: ${ruleNames().join(', ')})`);
  return rule.create(config);
}

/** The shares a rule needs, or a clear error. */
export function requireShares(rule: string, config: RuleConfig): ShareSchedule {
  if (!config.shares) throw new AllocationInputError(`rule ${rule} needs a share key (shares or coefficients)`);
  return config.shares;
}

/** Builds an allocator from a kernel factory; the kernel is created per run (it keeps buffers). */
export function kernelAllocator(
  rule: string,
  granularity: 'interval' | 'hour',
  makeKernel: (members: number) => IntervalKernel,
  producers: ProducerAttribution = PROPORTIONAL,
): Allocator {
  const run = granularity === 'hour' ? runPerHour : runPerInterval;
  return {
    rule,
    granularity,
    allocate: (input, out) => run(rule, makeKernel(input.memberIds.length), input, producers, out),
  };
}
