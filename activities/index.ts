// The activity factory: the worker builds the clients once and hands them in; every activity is
// wrapped so failures carry their taxonomy code and permanent ones are not retried.
import { Context } from '@temporalio/activity';
import { getStream } from '../streams';
import { archive } from './archive/archive';
import type { ActivityDeps } from './deps';
import { withAttemptBound } from './attempts';
import { asActivity } from './failures';
import { follow } from './archive/follow';
import { forecastSymbols, type ForecastSymbolsInput } from './forecast/forecast';
import { ingest } from './ingest/ingest';
import { allSymbolsFailed, pollSource, type PollInput } from './poll/poll';
import { quality } from './quality/quality';
import { parkObject, unparkObject, type ParkInput } from './parking';
import { listObjectsInWindow, replayObject, type ReplayObjectInput, type WindowInput } from './replay/replay';
import { transformAndLoad, type RunPass } from './transform-load/transform-load';
import { passInline } from './transform-load/pass-inline';
import { awaitUnloaded, listUnloaded } from './work-queue';
import type { ArchiveInput, FollowInput, IngestInput, QualityInput, TransformLoadInput } from './types';
import { refreshAggregates } from './aggregate/aggregate';
import { searchSyncPage, searchSyncWorkflowId, type SearchSyncPageInput } from './search/search-sync';
import { getSource, type SourceDiscoverInput, type SourceReadInput } from './sources';
import { lakeActivities } from './lake/activity';

export type { ActivityDeps } from './deps';
export type * from './types';
export type { FollowCursor } from './archive/follow';
export type { PollInput, PollResult } from './poll/poll';
export type { ParkInput } from './parking';
export type { FailureDetails } from './failures';
export type { SearchSyncPageInput, SearchSyncPageResult } from './search/search-sync';
export type { SourceDiscoveredPage, SourceUnitRead } from './sources';
export type { LakeWriteResult } from './lake/activity';

/** Pipeline counters for Prometheus, next to the SDK's own (activity latency, task slots…). */
function count(name: string, description: string, n: number, stream: string): void {
  if (n > 0) Context.current().metricMeter.createCounter(name, 'records', description).add(n, { stream });
}

/** `runPass` runs the one pass over a bronze object: on the worker's thread pool in production, in-line by default. */
export function createActivities(deps: ActivityDeps, runPass: RunPass = passInline) {
  const wrap = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => asActivity(deps, fn);
  return {
    ingest: wrap((input: IngestInput) => ingest(deps, input)),
    /** Counts its records per object written (etl_records_archived), as follow does. */
    archive: wrap((input: ArchiveInput) => archive(deps, input)),
    /** bronze -> silver + quarantine + raw and flat: one pass over the object, one transaction. */
    transformAndLoad: wrap(async (input: TransformLoadInput) => {
      const r = await withAttemptBound(deps, `transform-load of object ${input.bronzeObjectId}`, () =>
        transformAndLoad(deps, input, { runPass }),
      );
      if (!r.alreadyLoaded) {
        count('etl_records_loaded', 'rows inserted into the flat table', r.inserted, input.stream);
        count('etl_records_duplicate', 'records skipped as duplicates', r.duplicates, input.stream);
        count(
          'etl_records_quarantined',
          'records quarantined: by validation, as conflicting duplicates, as refused by PostgreSQL',
          r.quarantined + r.conflicts + r.rejected,
          input.stream,
        );
      }
      return r;
    }),
    quality: wrap((input: QualityInput) => quality(deps, input)),
    listObjectsInWindow: wrap((input: WindowInput) => listObjectsInWindow(deps, input)),
    replayObject: wrap((input: ReplayObjectInput) =>
      withAttemptBound(deps, `replay of object ${input.bronzeObjectId}`, () => replayObject(deps, input)),
    ),
    /** One poll of a market source; a symbol that fails is reported, the poll fails only if all do. */
    pollSource: wrap(async (input: PollInput) => {
      const ctx = Context.current();
      const r = await pollSource(deps, input, { signal: ctx.cancellationSignal });
      if (r.published > 0)
        ctx.metricMeter
          .createCounter('etl_ticks_polled', 'ticks', 'ticks published by market source polls')
          .add(r.published, { source: r.source });
      const failed = allSymbolsFailed(r);
      if (failed) throw failed;
      return r;
    }),
    forecastSymbols: wrap((input: ForecastSymbolsInput) => forecastSymbols(deps, input)),

    /** Continuous mode: archives for as long as the stream runs (counts its records per object). */
    follow: wrap((input: FollowInput) => follow(deps, input)),

    /** Archived objects not loaded yet, oldest first: the work queue lives in the manifest. */
    listUnloadedObjects: wrap((input: { stream: string; limit: number }) => listUnloaded(deps, input)),
    /** The same, long-polled: returns as soon as there is work (continuous mode). */
    awaitUnloadedObjects: wrap((input: { stream: string; limit: number; waitMs: number }) => awaitUnloaded(deps, input)),
    /** An object whose transform-and-load failed for good leaves the work queue, with the reason. */
    parkObject: wrap(async (input: ParkInput) => {
      const r = await parkObject(deps, input);
      if (r.parked)
        Context.current()
          .metricMeter.createCounter('etl_objects_parked', 'objects', 'bronze objects parked after a final failure')
          .add(1, { stream: input.stream });
      return r;
    }),
    /** `etl objects retry`: back into the work queue, to be transformed and loaded now. */
    unparkObject: wrap((input: { stream: string; bronzeObjectId: number }) => unparkObject(deps, input)),

    refreshAggregates: wrap((input: { stream: string }) => refreshAggregates(deps, input)),

    /** The search sink's lane: indexes a page of objects the index is behind on (activities/search). */
    searchSyncPage: wrap(async (input: SearchSyncPageInput) => {
      const r = await searchSyncPage(deps, input);
      count('etl_search_docs_indexed', 'documents indexed into OpenSearch by the search sink', r.docsIndexed, input.stream);
      count('etl_search_docs_rejected', 'documents OpenSearch refused (recorded in search_rejections)', r.docsRejected, input.stream);
      return r;
    }),
    /** The stream's search lane when the sink is on (SEARCH_SINK) and the stream declares an index; null: no lane. */
    searchSinkLane: wrap(async (input: { stream: string }) =>
      deps.config.SEARCH_SINK && getStream(input.stream).search ? { workflowId: searchSyncWorkflowId(deps.config, input.stream) } : null,
    ),
    /** Sources beside Kafka (activities/sources.ts): what is at a location becomes units in the manifest. */
    discoverSource: wrap((input: SourceDiscoverInput) => getSource(input.source).discover(deps, input)),
    listSourceUnits: wrap((input: { source: string; stream: string; limit: number; afterId: number }) =>
      getSource(input.source).listUnread(deps, input),
    ),
    /** One unit (a file version) read into bronze objects exactly once; counts its records as archive does. */
    readSourceUnit: wrap(async (input: SourceReadInput) => {
      const source = getSource(input.source);
      const r = await withAttemptBound(
        deps,
        `read of file unit ${input.unitId}`,
        () => source.read(deps, input),
        (err) => source.giveUp(deps, { unitId: input.unitId, code: err.code, message: err.message }),
      );
      count('etl_records_archived', 'records written to bronze objects', r.alreadyRead ? 0 : r.records, input.stream);
      return r;
    }),
    ...lakeActivities(deps, wrap),
  };
}

export type Activities = ReturnType<typeof createActivities>;
