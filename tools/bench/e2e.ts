// End to end on a backlog: produce first, then time one pipeline run draining it through a real
// worker process, and count the activities the run's history says were scheduled.
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Config } from '../../lib/config';
import { connectClient } from '../../lib/temporal';
import type { PipelineResult } from '../../workflows';
import { bareCopy } from './copy';
import { benchEnv, produceBacklog, STREAM } from './env';
import { profilesIn, summarizeProfiles, type ProfileSummary } from './profile';
import { perSecond, timed } from './stats';
import { startWorker } from './worker';

export interface E2eFigures {
  events: number;
  producer_events_per_s: number;
  seconds: number;
  e2e_events_per_s: number;
  rows_inserted: number;
  worker_peak_rss_mb: number;
  activities: number;
  activities_per_million: number;
  /** Seconds spent in each activity type (started → closed, summed over concurrent ones). */
  activity_seconds: Record<string, number>;
  runs: number;
  /** A bare COPY of the rows this run loaded, into fresh copies of its tables (NaN above COPY_MAX_EVENTS). */
  copy_rows_per_s: number;
  e2e_vs_copy_ratio: number;
  /** The worker's CPU profile over the run, when one was taken. */
  profile: ProfileSummary | null;
}

/** The bare COPY reads every row into memory first (so the read is not timed): not on the 10M run. */
export const COPY_MAX_EVENTS = 1_000_000;

/** ActivityTaskScheduled events over every run of a workflow id (continue-as-new included). */
export async function countActivities(
  client: Client,
  workflowId: string,
  firstRunId: string,
): Promise<{ activities: number; runs: number; seconds: Record<string, number> }> {
  let activities = 0;
  let runs = 0;
  const seconds: Record<string, number> = {};
  let runId: string | undefined = firstRunId;
  while (runId && runs < 1_000) {
    runs++;
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    let next: string | undefined;
    const typeOf = new Map<string, string>();
    const startedAt = new Map<string, number>();
    const ms = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) =>
      Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
    for (const e of history.events ?? []) {
      const id = String(e.eventId ?? '');
      if (e.activityTaskScheduledEventAttributes) {
        activities++;
        typeOf.set(id, e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
      }
      const st = e.activityTaskStartedEventAttributes;
      if (st) startedAt.set(String(st.scheduledEventId ?? ''), ms(e));
      const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
      if (done) {
        const sched = String(done.scheduledEventId ?? '');
        const type = typeOf.get(sched) ?? '?';
        seconds[type] = (seconds[type] ?? 0) + (ms(e) - (startedAt.get(sched) ?? ms(e))) / 1000;
      }
      next = e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? next;
    }
    runId = next;
  }
  return { activities, runs, seconds };
}

export interface E2eShape {
  /** Worker processes polling the run's task queue (scale-out on one machine). */
  workers?: number;
  /** Objects transformed and loaded at once by the pipeline workflow. */
  objectConcurrency?: number;
  /** The worker writes a V8 CPU profile into this folder (a fresh one per run), summarised in the figures. */
  cpuProfDir?: string;
}

export async function e2eRun(
  base: Config,
  events: number,
  seed: number,
  say: (line: string) => void,
  shape: E2eShape = {},
): Promise<E2eFigures> {
  const env = await benchEnv(base, 'e2e');
  try {
    const produced = await timed(() => produceBacklog(env, events, seed));
    const workers = [];
    const profDir = shape.cpuProfDir ? path.resolve(shape.cpuProfDir, `e2e-${events}-${env.id}`) : undefined;
    for (let i = 0; i < (shape.workers ?? 1); i++) workers.push(await startWorker(env, say, profDir));
    const client = await connectClient(env.config);
    try {
      const workflowId = `bench-pipeline-${env.id}`;
      const run = await timed(async () => {
        const handle = await client.workflow.start('pipelineWorkflow', {
          taskQueue: env.config.TEMPORAL_TASK_QUEUE,
          workflowId,
          args: [{ stream: STREAM, objectConcurrency: shape.objectConcurrency ?? env.config.PIPELINE_OBJECT_CONCURRENCY }],
        });
        return { result: (await handle.result()) as PipelineResult, runId: handle.firstExecutionRunId };
      });
      const rss = Math.max(...workers.map((w) => w.peakRssMb()));
      const { activities, runs, seconds } = await countActivities(client, workflowId, run.value.runId);
      // The profile is written when the worker exits.
      await Promise.all(workers.map((w) => w.stop()));
      workers.length = 0;
      const copy = events <= COPY_MAX_EVENTS ? await bareCopy(env.pool, env.config.PG_SCHEMA) : null;
      const copyRate = copy ? perSecond(copy.rows, copy.ms) : NaN;
      const e2eRate = perSecond(events, run.ms);
      const profiles = profDir ? profilesIn(profDir) : [];
      return {
        events,
        producer_events_per_s: perSecond(produced.value, produced.ms),
        seconds: run.ms / 1000,
        e2e_events_per_s: e2eRate,
        rows_inserted: run.value.result.rowsInserted,
        worker_peak_rss_mb: rss,
        activities,
        activities_per_million: (activities * 1e6) / events,
        activity_seconds: seconds,
        runs,
        copy_rows_per_s: copyRate,
        e2e_vs_copy_ratio: e2eRate / copyRate,
        profile: profiles.length ? summarizeProfiles(profiles) : null,
      };
    } finally {
      await client.connection.close();
      await Promise.all(workers.map((w) => w.stop()));
    }
  } finally {
    await env.cleanup();
  }
}
