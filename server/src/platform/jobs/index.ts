export { DEFAULT_LEASE_MS, JobRunner, type Job, type JobDefinition, type JobStatus, type JobWaker, type PassContext, type PassResult, type RunnerOptions } from './runner.js';
