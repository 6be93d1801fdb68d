// Everything the worker registers as workflow code. Only deterministic code may live here.
export { pipelineWorkflow, progressQuery } from './pipeline';
export type { PipelineInput, PipelineResult, PipelineProgress, PipelineTotals } from './pipeline';
export { ingestWorkflow } from './ingest';
