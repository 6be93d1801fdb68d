// `etl stream start|stop|status <stream>`: continuous mode, one long-running workflow per stream.
// Its id is fixed per stream and deployment (`stream-transactions`; `stream-transactions@staging`
// for one with its own task queue or topic prefix, lib/deployment.ts), so Temporal itself
// guarantees at most one per topic — also across deployments and test environments sharing a namespace.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { optionalTsToDate } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { followCursorSchema, type FollowCursor } from '../../activities/archive/follow';
import { temporalUiUrl, type Config } from '../../lib/config';
import type { StreamInput, StreamResult, StreamStatus } from '../../workflows';
import { scopedId } from '../../lib/deployment';
import { fmt } from '../output';

export const streamWorkflowId = (config: Config, stream: string) => scopedId(config, `stream-${stream}`);

export interface StartArgs {
  stream: string;
  flushIntervalMs: number;
  maxRecordsPerObject?: number;
  iterationsPerRun?: number;
  pollWaitMs?: number;
}
export interface StartOutcome {
  started: boolean;
  workflowId: string;
  runId: string;
  url: string;
}

export async function startStream(client: Client, config: Config, a: StartArgs): Promise<StartOutcome> {
  const workflowId = streamWorkflowId(config, a.stream);
  const input: StreamInput = {
    stream: a.stream,
    flushIntervalMs: a.flushIntervalMs,
    maxRecordsPerObject: a.maxRecordsPerObject,
    iterationsPerRun: a.iterationsPerRun,
    pollWaitMs: a.pollWaitMs,
    objectConcurrency: config.PIPELINE_OBJECT_CONCURRENCY,
  };
  try {
    const handle = await client.workflow.start('streamWorkflow', {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
    });
    return { started: true, workflowId, runId: handle.firstExecutionRunId, url: temporalUiUrl(config, workflowId) };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const d = await client.workflow.getHandle(workflowId).describe();
    return { started: false, workflowId, runId: d.runId, url: temporalUiUrl(config, workflowId) };
  }
}

export interface StreamReport {
  stream: string;
  workflowId: string;
  /** RUNNING, COMPLETED, TERMINATED…, or null when it never ran. */
  status: string | null;
  running: boolean;
  runId: string | null;
  startedAt: string | null;
  closedAt: string | null;
  /** From the `status` query while it runs, from the result once it completed. */
  detail: StreamStatus | StreamResult | null;
  /** The running follower activity, from its last heartbeat (what Temporal shows as its pending activity). */
  follower: FollowerReport | null;
  url: string;
}

export interface FollowerReport {
  attempt: number;
  state: string;
  lastHeartbeatAt: string | null;
  /** Why the previous attempt failed, while it is being retried (e.g. ARCHIVE_BUSY). */
  lastFailure: string | null;
  /** Offsets and counts of the follower's current run, as of its last heartbeat. */
  cursor: FollowCursor | null;
}

export function followerOf(d: WorkflowExecutionDescription): FollowerReport | null {
  const pending = (d.raw.pendingActivities ?? []).find((a) => a.activityType?.name === 'follow');
  if (!pending) return null;
  const payload = pending.heartbeatDetails?.payloads?.[0];
  const cursor = payload ? followCursorSchema.safeParse(defaultPayloadConverter.fromPayload(payload)) : undefined;
  return {
    attempt: pending.attempt ?? 1,
    state: (temporal.api.enums.v1.PendingActivityState[pending.state ?? 0] ?? 'UNKNOWN').replace('PENDING_ACTIVITY_STATE_', ''),
    lastHeartbeatAt: optionalTsToDate(pending.lastHeartbeatTime)?.toISOString() ?? null,
    lastFailure: pending.lastFailure?.message ?? null,
    cursor: cursor?.success ? cursor.data : null,
  };
}

export async function streamReport(client: Client, config: Config, stream: string): Promise<StreamReport> {
  const workflowId = streamWorkflowId(config, stream);
  const base = { stream, workflowId, url: temporalUiUrl(config, workflowId) };
  const handle = client.workflow.getHandle(workflowId);
  try {
    const d = await handle.describe();
    const running = d.status.name === 'RUNNING';
    // A query needs a worker; without one the run is still reported, just without counts.
    const detail = running
      ? await handle.query<StreamStatus>('status').catch(() => null)
      : d.status.name === 'COMPLETED'
        ? ((await handle.result().catch(() => null)) as StreamResult | null)
        : null;
    return {
      ...base,
      status: d.status.name,
      running,
      runId: d.runId,
      startedAt: d.startTime.toISOString(),
      closedAt: d.closeTime?.toISOString() ?? null,
      detail,
      follower: running ? followerOf(d) : null,
      url: temporalUiUrl(config, workflowId, d.runId),
    };
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    return { ...base, status: null, running: false, runId: null, startedAt: null, closedAt: null, detail: null, follower: null };
  }
}

export type StopOutcome =
  | { state: 'not-running'; report: StreamReport }
  | { state: 'stopped'; result: StreamResult }
  | { state: 'still-stopping'; timeoutMs: number };

/** Asks the stream to write what its follower has read and load it, then waits up to `timeoutMs` for it to return. */
export async function stopStream(client: Client, config: Config, stream: string, timeoutMs: number): Promise<StopOutcome> {
  const report = await streamReport(client, config, stream);
  if (!report.running) return { state: 'not-running', report };
  const handle = client.workflow.getHandle(streamWorkflowId(config, stream));
  await handle.signal('stop');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  try {
    // result() follows continue-as-new, so a stop that lands on a fresh run is waited for too.
    const r = await Promise.race([handle.result() as Promise<StreamResult>, timeout]);
    return r === 'timeout' ? { state: 'still-stopping', timeoutMs } : { state: 'stopped', result: r };
  } finally {
    clearTimeout(timer);
  }
}

export function describeTotals(t: StreamResult | StreamStatus): string {
  return (
    `${fmt(t.iterations)} flushes loaded, ${fmt(t.recordsArchived)} records archived in ${fmt(t.objectsArchived)} objects, ` +
    `${fmt(t.rowsInserted)} rows loaded, ${fmt(t.duplicates)} duplicates, ${fmt(t.quarantined)} quarantined` +
    // Older runs carry no parked count; a parked object is listed by `etl objects list --parked`.
    (t.objectsParked
      ? `, ${fmt(t.objectsParked)} objects parked (${t.parked.map((p) => `#${p.bronzeObjectId} ${p.code}`).join(', ')}${t.objectsParked > t.parked.length ? ', …' : ''})`
      : '')
  );
}

/** Archived so far: the finished followers' totals plus the running one's, from its last heartbeat. */
export function archivedSoFar(r: StreamReport): { objects: number; records: number } | null {
  if (!r.detail) return null;
  const live = r.follower?.cursor;
  return {
    objects: r.detail.objectsArchived + (live?.objectsArchived ?? 0),
    records: r.detail.recordsArchived + (live?.recordsArchived ?? 0),
  };
}

export function describeFollower(f: FollowerReport): string {
  const c = f.cursor;
  const parts = [`attempt ${f.attempt}`];
  if (c) {
    parts.push(
      `joined the consumer group ${fmt(c.groupJoins)} time(s)`,
      `${fmt(c.buffered)} records buffered`,
      `next offsets ${
        Object.entries(c.offsets)
          .map(([p, o]) => `${p}:${o}`)
          .join(' ') || '-'
      }`,
    );
  }
  if (f.lastHeartbeatAt) parts.push(`heartbeat ${f.lastHeartbeatAt}`);
  if (f.lastFailure) parts.push(`last failure: ${f.lastFailure}`);
  return parts.join(', ');
}

export function formatStreamReport(r: StreamReport): string {
  const d = r.detail;
  const rows: [string, string][] = [
    ['stream', r.stream],
    ['workflow', r.workflowId],
    ['running', r.running ? 'yes' : 'no'],
    ['status', r.status ?? 'never started (`etl stream start ' + r.stream + '`)'],
    ['started', r.startedAt ?? '-'],
    ...(r.closedAt ? [['closed', r.closedAt] as [string, string]] : []),
  ];
  if (d) {
    const archived = archivedSoFar(r)!;
    rows.push(
      ['stage', 'stage' in d ? `${d.stage}${d.stopRequested ? ' (stop requested)' : ''}` : 'done'],
      ['flush interval', 'flushIntervalMs' in d ? `${d.flushIntervalMs} ms` : '-'],
      ['runs', `${fmt(d.runs)} (continue-as-new), ${fmt(d.groupJoins + (r.follower?.cursor?.groupJoins ?? 0))} consumer-group joins`],
      ['iterations', fmt(d.iterations)],
      ['last flush', d.lastFlushAt ?? 'none yet'],
      ['archived', `${fmt(archived.records)} records in ${fmt(archived.objects)} objects`],
      ['loaded', `${fmt(d.rowsInserted)} rows from ${fmt(d.objectsLoaded)} objects`],
      ['duplicates', fmt(d.duplicates)],
      ['quarantined', fmt(d.quarantined)],
    );
    if ('quality' in d) rows.push(['quality', `${d.quality.checks.filter((c) => c.passed).length}/${d.quality.checks.length} passed`]);
  } else if (r.running) {
    rows.push(['counts', 'unavailable: no worker answered the status query (`etl worker`)']);
  }
  if (r.follower) rows.push(['follower', describeFollower(r.follower)]);
  rows.push(['web UI', r.url]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
