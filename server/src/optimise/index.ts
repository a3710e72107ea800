// The optimise capability's public API (see README.md).
import './domain/assets/index.js';

export { isControllableKind, type ControllableKind } from './domain/control.js';
export { parseScenario, type Scenario, type Site } from './domain/scenario.js';
export { ScenarioError } from './domain/fields.js';
export { buildModel, checkScenario, InfeasibleScenarioError, readSolution, type BuildOptions, type BuiltModel, type ExchangeTargets } from './domain/build.js';
export { modelSize, objectiveValue, worstViolation, type MilpModel, type ModelSize } from './domain/model.js';
export { writeLp } from './domain/lp-format.js';
export { baseline, evaluate, planDocument, type Outcome, type PlanDocument } from './domain/plan.js';
export {
  explainSavings, proportional, shareByBaselineImport, type MemberOutcome, type MemberSavings, type MemberWeight, type SavingsSharing, type SharingExplanation,
} from './domain/savings.js';
export { shareByCommunityRule, type CommunityKeys } from './community-sharing.js';
export { warmStartFrom, type NamedSolution } from './domain/warm-start.js';
export { assetTypes, registerAsset, type AssetAdapter } from './domain/assets/index.js';
export type { SolveReport, SolveResult, SolveSettings, SolveStatus } from './domain/solve-report.js';
export { DEFAULT_SETTINGS, Solver, SolverError, solveOnce } from './solver.js';
export { optimise, type OptimiseOptions, type OptimiseResult } from './optimise.js';

export { registerOptimiseCommand } from './commands.js';

// Phase 2: plans in operation (tables, the MPC job, routes, members' control settings).
export { PlanService, DEFAULT_WEIGHTS, EXPLORE_SHORTFALL_PER_KWH, SOC_READING_MAX_AGE_MS, type Exploration, type ExploreRequest, type PlanSettings, type PlanTargets, type PlanTargetSource } from './service.js';
export { OPTIMISE_JOB, PLAN_RETENTION_DAYS, optimiseJob, subscribeOptimise, type OptimiseJob } from './job.js';
export { optimiseRoutes } from './routes.js';
/** Members' control settings of a community's devices (flex/ asks which opted-in devices the plan may control). */
export { controlOfCommunity as deviceControlsOfCommunity } from './store.js';
/** Each metering point's planned net exchange in a slot, by the plan in force at an instant (market's agents trade it). */
export { plannedNetWh } from './store.js';
export { enableDemoControl } from './demo.js';
