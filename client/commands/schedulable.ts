// What `etl schedule create <what>` can schedule: each entry names the workflow a schedule starts
// and how its one input object is built from config and the command's flags. Add an entry here
// (and nothing else in the schedule code) to make a new workflow schedulable.
import type { Config } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { parseMarketSource, sourceSettings } from '../../sources/market/settings';
import type { ForecastInput, PipelineInput, PollMarketInput, SourceInput } from '../../workflows';

export interface ScheduleTarget {
  stream: string;
  /** `poll`: the market source (--source) and, if given, its symbols (--symbols). */
  source?: string;
  symbols?: string[];
  /** `files`: where the files land (--location) and, if given, their format (--format). */
  location?: string;
  format?: string;
}

export interface Schedulable {
  workflowType: string;
  description: string;
  /** The stream this workflow always works on, whatever --stream says (it also names the schedule). */
  stream?: string;
  input(config: Config, target: ScheduleTarget): unknown;
  /** The schedule id when --id is not given (default: <what>-<stream>). */
  defaultId?(target: ScheduleTarget): string;
  /** The interval when neither --every nor --cron is given (default: one of them is required). */
  defaultEveryMs?(config: Config, target: ScheduleTarget): number;
}

const marketSourceOf = (t: ScheduleTarget) => {
  if (!t.source) throw new EtlError('USAGE', 'etl schedule create poll needs --source yahoo, finnhub or cryptocompare');
  return parseMarketSource(t.source);
};

const locationOf = (t: ScheduleTarget) => {
  if (!t.location) throw new EtlError('USAGE', 'etl schedule create files needs --location <path or s3://bucket/prefix/>');
  return t.location;
};

export const SCHEDULABLE: Readonly<Record<string, Schedulable>> = {
  pipeline: {
    workflowType: 'pipelineWorkflow',
    description: "archive -> transform -> load -> quality of everything in the stream's topic",
    input: (config, t): PipelineInput => ({ stream: t.stream, objectConcurrency: config.PIPELINE_OBJECT_CONCURRENCY }),
  },
  forecast: {
    workflowType: 'forecastWorkflow',
    description: 'fit the price forecast models (linear trend, Holt) on the latest day of 1-minute candles of every symbol',
    stream: 'ticks',
    // The activity's defaults: 1 day of 1m candles, 30 minutes ahead, 20 % holdout. Each run stamps its own start time.
    input: (): ForecastInput => ({}),
  },
  poll: {
    workflowType: 'pollMarketWorkflow',
    description: 'poll a market data source once (--source, --symbols) and publish its new ticks to the ticks topic',
    stream: 'ticks',
    // Without --symbols the worker's MARKET_SYMBOLS_<SOURCE> applies at each run, so changing it needs no new schedule.
    input: (_config, t): PollMarketInput => ({ source: marketSourceOf(t), ...(t.symbols ? { symbols: t.symbols } : {}) }),
    defaultId: (t) => `poll-${marketSourceOf(t)}`,
    defaultEveryMs: (config, t) => sourceSettings(config, marketSourceOf(t)).everyMs,
  },
  files: {
    workflowType: 'sourceWorkflow',
    description: 'load the files that arrived at --location since the last run (JSONL/CSV, optionally gzip), each version exactly once',
    input: (config, t): SourceInput => ({
      source: 'files',
      stream: t.stream,
      location: locationOf(t),
      ...(t.format ? { options: { format: t.format } } : {}),
      objectConcurrency: config.PIPELINE_OBJECT_CONCURRENCY,
    }),
  },
};

export const SCHEDULABLE_NAMES = Object.keys(SCHEDULABLE);
