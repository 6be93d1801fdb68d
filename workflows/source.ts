// A run of a non-Kafka source (activities/sources.ts: files today): discover what is at the
// location, read each unit not read yet into bronze objects, and beside that transform and load the
// work queue exactly as a pipeline run does (objects.ts), then aggregates and quality. `etl ingest
// files` starts one and waits; `etl schedule create files` starts one per tick, and each picks up
// only what arrived since (what is read is in the manifest). Discovery goes in bounded steps that
// pass a cursor and counts. A unit that cannot be read (a corrupt file, or one the listing found
// but cannot open) is reported and the others go on; the run then fails with the reason after
// loading the rest. A location that is not there fails the run at discovery (FILE_LOCATION_MISSING).
import { ApplicationFailure, continueAsNew, defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities, QualityResult, SourceUnitRead } from '../activities';
import { addDiscovered, NAMES_KEPT, type SourceDiscovered } from '../shared/discovery';
import {
  carriedTotals,
  finalFailureOf,
  forEachLimited,
  lakeCatchUp,
  loadBeside,
  PAGE,
  refreshAggregates,
  runFailure,
  runQuality,
  type PipelineTotals,
} from './objects';
import { QUICK, READING, STREAMING } from './policies';
import { kickSearchSync } from './search-sync';
import { showStage } from './visibility';

const streaming = proxyActivities<Activities>(STREAMING);
const quick = proxyActivities<Activities>(QUICK);
const reader = proxyActivities<Activities>(READING);

export interface SourceInput {
  /** A kind of source (activities/sources.ts): 'files'. */
  source: string;
  stream: string;
  location: string;
  options?: Record<string, unknown>;
  /** Units read at once. */
  readConcurrency?: number;
  objectConcurrency?: number;
  maxRecordsPerObject?: number;
  /** Totals and the unit cursor carried over continue-as-new (discovery is not repeated). */
  carried?: SourceTotals & { afterId: number };
}

export interface SourceTotals extends PipelineTotals {
  discovered: SourceDiscovered | null;
  unitsRead: number;
  unitsFailed: number;
  /** The first few failed units: id and reason. */
  failures: { unitId: number; code: string; message: string }[];
}

export interface SourceProgress extends SourceTotals {
  stage: 'discover' | 'read' | 'aggregate' | 'quality' | 'done';
}

export interface SourceResult extends SourceTotals {
  quality: QualityResult;
  aggregatesRefreshed: string[];
}

export const sourceProgressQuery = defineQuery<SourceProgress>('progress');

const FAILURE_NOTES = 10;

const withoutCursor = (carried: SourceInput['carried']): Partial<SourceTotals> => {
  if (!carried) return {};
  const totals: Partial<SourceTotals> & { afterId?: number } = { ...carried };
  delete totals.afterId;
  return totals;
};

export async function sourceWorkflow(input: SourceInput): Promise<SourceResult> {
  const { stream } = input;
  const totals: SourceTotals = {
    ...carriedTotals(undefined),
    discovered: null,
    unitsRead: 0,
    unitsFailed: 0,
    failures: [],
    ...withoutCursor(input.carried),
  };
  let stage: SourceProgress['stage'] = 'discover';
  setHandler(sourceProgressQuery, () => ({ stage, ...totals }));
  const enter = (next: SourceProgress['stage']) => {
    stage = next;
    showStage(stream, next);
  };
  const { workflowId } = workflowInfo();

  enter('discover');
  if (!input.carried) {
    let cursor: string | undefined;
    do {
      const step = await streaming.discoverSource({
        source: input.source,
        stream,
        location: input.location,
        options: input.options,
        workflowId,
        ...(cursor === undefined ? {} : { cursor }),
      });
      totals.discovered = addDiscovered(totals.discovered, step);
      cursor = step.cursor;
    } while (cursor !== undefined);
  }

  enter('read');
  let reading = true;
  let readsDone = 0;
  const note = (r: SourceUnitRead) => {
    readsDone++;
    if (r.alreadyRead) return;
    totals.unitsRead++;
    totals.objectsArchived += r.objects;
    totals.recordsArchived += r.records;
    if (r.failed) {
      totals.unitsFailed++;
      if (totals.failures.length < FAILURE_NOTES)
        totals.failures.push({ unitId: r.unitId, ...r.failed, message: r.failed.message.slice(0, 300) });
    }
  };
  // A unit whose read fails for good (an unclassified error after its bounded attempts) is noted and
  // skipped: it stays unread in the manifest for the next run, and the other units go on.
  const readUnit = async (unitId: number) => {
    try {
      note(await reader.readSourceUnit({ source: input.source, stream, unitId, maxRecordsPerObject: input.maxRecordsPerObject }));
    } catch (err) {
      const failure = finalFailureOf(err);
      if (!failure) throw err;
      note({
        unitId,
        alreadyRead: false,
        records: 0,
        objects: 0,
        failed: { code: failure.type ?? 'UNKNOWN_ERROR', message: failure.message },
      });
    }
  };
  // A landing prefix of many thousands of files would outgrow one history: the run hands over to a
  // fresh one when Temporal suggests it, carrying its totals and the unit cursor.
  let afterId = input.carried?.afterId ?? 0;
  let handOver = false;
  const readLane = async () => {
    try {
      for (;;) {
        if (workflowInfo().continueAsNewSuggested) {
          handOver = true;
          break;
        }
        const units = await quick.listSourceUnits({ source: input.source, stream, limit: PAGE, afterId });
        if (units.length === 0) break;
        afterId = units.at(-1)!.unitId;
        await forEachLimited(units, input.readConcurrency ?? 2, (u) => readUnit(u.unitId));
      }
    } finally {
      reading = false;
    }
  };
  // A long file is split into objects while it is read: they load before it is finished.
  const loadLane = () =>
    loadBeside(stream, totals, input.objectConcurrency ?? 2, { running: () => reading, steps: () => readsDone }, '2 seconds');
  await Promise.all([readLane(), loadLane()]);
  if (handOver) {
    await continueAsNew<typeof sourceWorkflow>({ ...input, carried: { ...totals, afterId } });
  }

  // As a pipeline run does: the lake catches up what it is behind, the search lane is kicked, never awaited.
  await lakeCatchUp(stream, totals, input.objectConcurrency ?? 2);
  await kickSearchSync(stream);
  enter('aggregate');
  const aggregatesRefreshed = await refreshAggregates(stream);
  enter('quality');
  const quality = await runQuality(stream, workflowId);
  enter('done');
  const result: SourceResult = { ...totals, quality, aggregatesRefreshed };
  if (totals.objectsParked > 0) throw runFailure(`${input.source} run of ${stream}`, totals, undefined, result);
  const unreadable = totals.discovered?.unreadable ?? 0;
  if (totals.unitsFailed > 0 || unreadable > 0) {
    const named = totals.failures.map((f) => `#${f.unitId} ${f.code}: ${f.message}`).join('; ');
    const found = (totals.discovered?.unreadableFiles ?? []).map((u) => `${u.location}: ${u.reason}`).join('; ');
    const parts = [
      ...(totals.unitsFailed > 0 ? [`${totals.unitsFailed} of ${totals.unitsRead} unit(s) could not be read: ${named}`] : []),
      ...(unreadable > 0 ? [`${unreadable} found at the location cannot be read: ${found}${unreadable > NAMES_KEPT ? ' …' : ''}`] : []),
    ];
    throw ApplicationFailure.create({
      type: totals.failures[0]?.code ?? 'FILE_UNREADABLE',
      message: `${input.source} run of ${stream}: ${parts.join('; ')} (everything else loaded)`,
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}
