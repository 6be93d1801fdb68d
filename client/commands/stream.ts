// `etl stream start|stop|status <stream>`: continuous mode, one long-running workflow per stream.
// Its id is fixed per topic (`stream-transactions`; a KAFKA_TOPIC_PREFIX goes in front of the stream
// name, as in the topic), so Temporal itself guarantees at most one per topic — also across
// isolated test environments sharing a namespace.
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { temporalUiUrl, type Config } from '../../lib/config';
import type { StreamInput, StreamResult, StreamStatus } from '../../workflows';
import { topicFor } from '../../streams';
import { fmt } from '../output';

export const streamWorkflowId = (config: Config, stream: string) => `stream-${topicFor(config.KAFKA_TOPIC_PREFIX, stream)}`;

export interface StartArgs { stream: string; flushIntervalMs: number; maxRecordsPerObject?: number; iterationsPerRun?: number }
export interface StartOutcome { started: boolean; workflowId: string; runId: string; url: string }

export async function startStream(client: Client, config: Config, a: StartArgs): Promise<StartOutcome> {
  const workflowId = streamWorkflowId(config, a.stream);
  const input: StreamInput = { stream: a.stream, flushIntervalMs: a.flushIntervalMs, maxRecordsPerObject: a.maxRecordsPerObject, iterationsPerRun: a.iterationsPerRun, objectConcurrency: config.PIPELINE_OBJECT_CONCURRENCY };
  try {
    const handle = await client.workflow.start('streamWorkflow', {
      taskQueue: config.TEMPORAL_TASK_QUEUE, workflowId, args: [input], workflowIdConflictPolicy: 'FAIL',
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
  url: string;
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
      : d.status.name === 'COMPLETED' ? ((await handle.result().catch(() => null)) as StreamResult | null) : null;
    return { ...base, status: d.status.name, running, runId: d.runId, startedAt: d.startTime.toISOString(), closedAt: d.closeTime?.toISOString() ?? null, detail, url: temporalUiUrl(config, workflowId, d.runId) };
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    return { ...base, status: null, running: false, runId: null, startedAt: null, closedAt: null, detail: null };
  }
}

export type StopOutcome = { state: 'not-running'; report: StreamReport } | { state: 'stopped'; result: StreamResult } | { state: 'still-stopping'; timeoutMs: number };

/** Asks the stream to finish its current iteration, then waits up to `timeoutMs` for it to return. */
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
  return `${fmt(t.iterations)} flushes, ${fmt(t.recordsArchived)} records archived in ${fmt(t.objectsArchived)} objects, ` +
    `${fmt(t.rowsInserted)} rows loaded, ${fmt(t.duplicates)} duplicates, ${fmt(t.quarantined)} quarantined`;
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
    rows.push(
      ['stage', 'stage' in d ? `${d.stage}${d.stopRequested ? ' (stop requested)' : ''}` : 'done'],
      ['flush interval', 'flushIntervalMs' in d ? `${d.flushIntervalMs} ms` : '-'],
      ['iterations', fmt(d.iterations)],
      ['last flush', d.lastFlushAt ?? 'none yet'],
      ['archived', `${fmt(d.recordsArchived)} records in ${fmt(d.objectsArchived)} objects`],
      ['loaded', `${fmt(d.rowsInserted)} rows from ${fmt(d.objectsLoaded)} objects`],
      ['duplicates', fmt(d.duplicates)],
      ['quarantined', fmt(d.quarantined)],
    );
    if ('quality' in d) rows.push(['quality', `${d.quality.checks.filter((c) => c.passed).length}/${d.quality.checks.length} passed`]);
  } else if (r.running) {
    rows.push(['counts', 'unavailable: no worker answered the status query (`etl worker`)']);
  }
  rows.push(['web UI', r.url]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
