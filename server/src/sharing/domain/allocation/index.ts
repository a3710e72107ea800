/**
 * The allocation engine: pure, no I/O. Importing this module registers every rule.
 */
import './static.js';
import './dynamic.js';
import './static-redistributed.js';
import './presets/austria.js';
import './presets/france.js';
import './presets/spain.js';
import './presets/italy.js';

export * from './types.js';
export { apportion, waterFill, Scratch } from './apportion.js';
export {
  createMatrix, createResult, resultView, sliceMatrix, chunkBoundaries, validateMatrix,
  memberFlows, summarize, summaryBuilder, accumulate, finishSummary,
  type MemberFlows, type AllocationSummary, type AllocationSummaryBuilder,
} from './matrix.js';
export {
  createAllocator, getRule, ruleNames, ruleDefinitions, registerRule,
  type Allocator, type RuleConfig, type RuleDefinition, type RuleNeeds,
} from './registry.js';
export { runPerHour, runPerInterval, type IntervalKernel } from './engine.js';
export { producerConsumerFlows, PROPORTIONAL, type ProducerAttribution, type ProducerConsumerFlows } from './producers.js';
export {
  bindShares, constantShares, weightShares, parseSharesCsv, parseDecimal,
  type Fraction, type ShareTable,
} from './shares.js';
export { parseCoefficients, type CoefficientOptions } from './coefficients.js';
export { cerHours, type CerHours } from './presets/italy.js';
export { staticKernel } from './static.js';
export { dynamicKernel } from './dynamic.js';
export { staticRedistributedKernel } from './static-redistributed.js';
