// The price forecast run (`etl forecast run`, `etl schedule create forecast`): one activity fits
// both models for every symbol and writes price_forecasts. The run stamps its start time and its
// id on every row; a retried activity or a replayed history writes the very same rows.
import { defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ForecastSymbolsResult } from '../activities/forecast/forecast';
import type { ForecastRequest } from '../forecast/options';
import { BOUNDED } from './policies';

const { forecastSymbols } = proxyActivities<Activities>(BOUNDED);

export interface ForecastInput extends ForecastRequest {
  /** Stored as fitted_at (ISO-8601); default: when this run started. */
  fittedAt?: string;
}
export type ForecastResult = ForecastSymbolsResult;
export interface ForecastProgress {
  stage: 'forecast' | 'done';
  result?: ForecastResult;
}

/** Same name as the pipeline's query, so `etl status <workflowId>` and other tools can ask any run. */
export const forecastProgressQuery = defineQuery<ForecastProgress>('progress');

export async function forecastWorkflow(input: ForecastInput = {}): Promise<ForecastResult> {
  const info = workflowInfo();
  let progress: ForecastProgress = { stage: 'forecast' };
  setHandler(forecastProgressQuery, () => progress);
  const { fittedAt = info.runStartTime.toISOString(), ...request } = input;
  const result = await forecastSymbols({ ...request, fittedAt, runId: info.workflowId });
  progress = { stage: 'done', result };
  return result;
}
