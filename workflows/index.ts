// Everything the worker registers as workflow code. Only deterministic code may live here.
export { pipelineWorkflow, progressQuery } from './pipeline';
export type { PipelineInput, PipelineResult, PipelineProgress, PipelineTotals } from './pipeline';
export { streamWorkflow, stopSignal, streamStatusQuery } from './stream';
export type { StreamInput, StreamResult, StreamStatus, StreamStage } from './stream';
export { ingestWorkflow } from './ingest';
export { replayWorkflow, replayProgressQuery, type ReplayInput, type ReplayProgress, type ReplayResult } from './replay';
export { forecastWorkflow, forecastProgressQuery, type ForecastInput, type ForecastProgress, type ForecastResult } from './forecast';
export { pollMarketWorkflow, type PollMarketInput } from './poll';
export { retryObjectWorkflow, retryObjectProgressQuery, type RetryObjectInput, type RetryObjectResult } from './retry-object';
export type { ParkedNote } from './objects';
export { searchSyncWorkflow, searchKickSignal, searchSyncStatusQuery } from './search-sync';
export type { SearchSyncInput, SearchSyncStatus, SearchSyncTotals } from './search-sync';
export { sourceWorkflow, sourceProgressQuery, type SourceInput, type SourceProgress, type SourceResult, type SourceTotals } from './source';
