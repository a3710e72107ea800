export { JobRunner, type Job, type JobDefinition, type JobWaker, type PassContext, type PassResult, type RunnerOptions } from './runner.js';
