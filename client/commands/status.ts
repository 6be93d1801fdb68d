// `etl status`: what an operator checks first — per stream, how far the archive is behind Kafka,
// what was archived and loaded last, the last hour's volume, schedules and running workflows; or,
// for one run, its stage and counts.
import type { Client } from '@temporalio/client';
import { lagReader, type LagReport } from '../../lib/consumer-lag';
import type { Clients } from '../../lib/clients';
import { temporalUiUrl } from '../../lib/config';
import { listParked } from '../../lib/parked';
import { searchLag, type SearchLag } from '../../lib/search-state';
import { driftSummaries, type DriftSummary } from '../../lib/stream-drift';
import { getStream, streamNames, streamTopics, topicFor } from '../../streams';
import { listSchedules } from './schedule';
import { followerOf, type FollowerReport } from './stream';

export interface StreamStatus {
  stream: string;
  topic: string;
  lag:
    { total: number; partitions: { partition: number; high: number; committed: number | null; lag: number }[] } | { unavailable: string };
  lastObject: { key: string; archivedAt: string; records: number } | null;
  lastLoad: { loadId: number; loadedAt: string; inserted: number; workflowId: string | null } | null;
  lastHour: { loaded: number; quarantined: number };
  schedules: { id: string; nextRun: string | null; paused: boolean }[];
  running: { workflowId: string; type: string; startedAt: string; url: string }[];
  /** Bronze objects parked after a final failure, oldest first (at most PARKED_LISTED). */
  parked: { id: number; key: string; code: string; message: string; step: string; since: string }[];
  /** The search sink (SEARCH_SINK=true and the stream declares an index): rows loaded but not yet indexed, refused documents. */
  search: SearchLag | null;
  /** Fields records carried that the stream does not declare (`etl stream drift`); null when none were seen. */
  drift: DriftSummary | null;
}

const PARKED_LISTED = 20;

function lagOf(report: LagReport, topic: string): StreamStatus['lag'] {
  if (!report.available) return { unavailable: report.note };
  const t = report.topics.find((x) => x.topic === topic);
  return t ? { total: t.lag, partitions: t.partitions } : { total: 0, partitions: [] };
}

/**
 * Whether a workflow id names the stream as one of its dash-separated parts (`pipeline-ticks-…`,
 * `stream-ticks`, `replay-ticks-…`), so that one stream's name inside another's is no match. A
 * deployment's scope (`@<task queue>…`, lib/deployment.ts) is no part of it.
 */
export function namesStream(workflowId: string, stream: string): boolean {
  const base = workflowId.split('@', 1)[0]!;
  return `-${base}-`.includes(`-${stream}-`);
}

export async function streamStatuses(clients: Clients, temporal: Client): Promise<StreamStatus[]> {
  const { config, pool } = clients;
  const lag = await lagReader(config, () => streamTopics(config.KAFKA_TOPIC_PREFIX), clients.logger)();
  const schedules = await listSchedules(temporal, config);
  const running: StreamStatus['running'] = [];
  for await (const wf of temporal.workflow.list({ query: "ExecutionStatus = 'Running'" })) {
    if (wf.taskQueue !== config.TEMPORAL_TASK_QUEUE) continue;
    running.push({
      workflowId: wf.workflowId,
      type: wf.type,
      startedAt: wf.startTime.toISOString(),
      url: temporalUiUrl(config, wf.workflowId, wf.runId),
    });
  }
  const drift = await driftSummaries(pool, streamNames());
  const out: StreamStatus[] = [];
  for (const stream of streamNames()) {
    const topic = topicFor(config.KAFKA_TOPIC_PREFIX, stream);
    const {
      rows: [obj],
    } = await pool.query<{ key: string; archived_at: Date; records: number }>(
      "SELECT object_key AS key, archived_at, record_count AS records FROM bronze_objects WHERE stream = $1 AND status = 'archived' ORDER BY archived_at DESC LIMIT 1",
      [stream],
    );
    const {
      rows: [load],
    } = await pool.query<{ load_id: number; loaded_at: Date; inserted: number; workflow_id: string | null }>(
      'SELECT load_id::int, loaded_at, inserted_count AS inserted, workflow_id FROM loads WHERE stream = $1 ORDER BY load_id DESC LIMIT 1',
      [stream],
    );
    const {
      rows: [hour],
    } = await pool.query<{ loaded: number; quarantined: number }>(
      `SELECT (SELECT coalesce(sum(inserted_count), 0)::int FROM loads WHERE stream = $1 AND loaded_at > now() - interval '1 hour') AS loaded,
              (SELECT count(*)::int FROM quarantine WHERE stream = $1 AND quarantined_at > now() - interval '1 hour') AS quarantined`,
      [stream],
    );
    out.push({
      stream,
      topic,
      lag: lagOf(lag, topic),
      lastObject: obj ? { key: obj.key, archivedAt: obj.archived_at.toISOString(), records: obj.records } : null,
      lastLoad: load
        ? { loadId: load.load_id, loadedAt: load.loaded_at.toISOString(), inserted: load.inserted, workflowId: load.workflow_id }
        : null,
      lastHour: hour!,
      schedules: schedules
        .filter((s) => (s.stream ?? (namesStream(s.id, stream) ? stream : null)) === stream)
        .map((s) => ({ id: s.id, nextRun: s.nextRuns[0] ?? null, paused: s.paused })),
      running: running.filter((r) => namesStream(r.workflowId, stream)),
      parked: (await listParked(pool, { stream, limit: PARKED_LISTED })).map((p) => ({
        id: p.id,
        key: p.objectKey,
        code: p.code,
        message: p.message,
        step: p.step,
        since: p.parkedAt,
      })),
      search: config.SEARCH_SINK && getStream(stream).search ? await searchLag(pool, stream, getStream(stream).flatTable) : null,
      drift: drift.find((d) => d.stream === stream) ?? null,
    });
  }
  return out;
}

/** A run's stage and counts: its `progress` query while it runs, its result once it completed. */
export type RunProgress = { stage?: string } & Record<string, unknown>;

export interface RunStatus {
  workflowId: string;
  type: string;
  status: string;
  startedAt: string;
  closedAt: string | null;
  progress?: RunProgress;
  /** Why it failed, was terminated or timed out. */
  failure?: string;
  /** A running stream's follower, from its last heartbeat. */
  follower?: FollowerReport;
  url: string;
}

const asProgress = (v: unknown): RunProgress | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as RunProgress) : undefined;

export async function runStatus(temporal: Client, config: Clients['config'], workflowId: string): Promise<RunStatus> {
  const handle = temporal.workflow.getHandle(workflowId);
  const d = await handle.describe();
  // Every workflow of ours that has stages (pipeline, stream, replay, forecast) answers `progress`
  // while it runs (a query needs a worker); a completed one has its totals in its result.
  let progress: RunProgress | undefined;
  let failure: string | undefined;
  if (d.status.name === 'RUNNING') progress = asProgress(await handle.query<unknown>('progress').catch(() => undefined));
  else if (d.status.name === 'COMPLETED') progress = asProgress(await handle.result().catch(() => undefined));
  else {
    failure = await handle.result().then(
      () => undefined,
      (err: unknown) => {
        const e = err as { message?: string; cause?: { message?: string } };
        return [e.message, e.cause?.message].filter(Boolean).join(': ');
      },
    );
  }
  if (progress && d.status.name === 'COMPLETED') progress = { ...progress, stage: progress.stage ?? 'done' };
  const follower = d.status.name === 'RUNNING' ? followerOf(d) : null;
  return {
    workflowId,
    type: d.type,
    status: d.status.name,
    startedAt: d.startTime.toISOString(),
    closedAt: d.closeTime?.toISOString() ?? null,
    ...(progress ? { progress } : {}),
    ...(failure ? { failure } : {}),
    ...(follower ? { follower } : {}),
    url: temporalUiUrl(config, workflowId, d.runId),
  };
}
