// `etl schedule backfill <id> --from --to --wait`: after asking the schedule for the runs it would
// have started in the window, follow them to the end. Which runs to expect comes from the
// schedule's own spec (ListScheduleMatchingTimes); which have started, and how they ended, from the
// visibility store (every run a schedule starts carries TemporalScheduledById and
// TemporalScheduledStartTime), so windows of any size are followed, not just the last ten actions.
import type { Client } from '@temporalio/client';
import { msNumberToTs, tsToMs } from '@temporalio/common/lib/time';
import type { Config } from '../../lib/config';
import { fmt, formatTable, progressBar } from '../output';

export interface BackfillRun {
  workflowId: string;
  scheduledAt: string | null;
  status: string;
  rowsInserted: number | null;
}
export interface BackfillReport {
  scheduleId: string;
  from: string;
  to: string;
  /** Runs the schedule's spec yields in [from, to]. */
  expected: number;
  runs: BackfillRun[];
  completed: number;
  failed: number;
  /** True when --timeout passed before every run had closed. */
  timedOut: boolean;
}

const POLL_MS = 1_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The times the schedule's spec matches in [fromMs, toMs] (the service's window excludes its start). */
export async function matchingTimes(client: Client, config: Config, scheduleId: string, fromMs: number, toMs: number): Promise<Date[]> {
  const res = await client.workflowService.listScheduleMatchingTimes({
    namespace: config.TEMPORAL_NAMESPACE,
    scheduleId,
    startTime: msNumberToTs(fromMs - 1),
    endTime: msNumberToTs(toMs),
  });
  return (res.startTime ?? []).map((t) => new Date(tsToMs(t)));
}

async function listRuns(client: Client, scheduleId: string, fromMs: number, toMs: number): Promise<BackfillRun[]> {
  const query =
    `TemporalScheduledById = ${JSON.stringify(scheduleId)} AND TemporalScheduledStartTime >= '${new Date(fromMs).toISOString()}' ` +
    `AND TemporalScheduledStartTime <= '${new Date(toMs).toISOString()}'`;
  const runs: BackfillRun[] = [];
  for await (const wf of client.workflow.list({ query })) {
    const at = wf.searchAttributes.TemporalScheduledStartTime?.[0];
    runs.push({
      workflowId: wf.workflowId,
      scheduledAt: at instanceof Date ? at.toISOString() : null,
      status: wf.status.name,
      rowsInserted: null,
    });
  }
  return runs.sort((a, b) => (a.scheduledAt ?? '').localeCompare(b.scheduledAt ?? ''));
}

/** Waits (with a progress bar on a terminal) until every expected run has closed, or `timeoutMs` passes. */
export async function waitForBackfill(
  client: Client,
  config: Config,
  scheduleId: string,
  fromMs: number,
  toMs: number,
  timeoutMs: number,
): Promise<BackfillReport> {
  const expected = (await matchingTimes(client, config, scheduleId, fromMs, toMs)).length;
  const bar = progressBar('backfill', Math.max(expected, 1));
  const deadline = Date.now() + timeoutMs;
  let runs: BackfillRun[] = [];
  try {
    for (;;) {
      runs = await listRuns(client, scheduleId, fromMs, toMs);
      const closed = runs.filter((r) => r.status !== 'RUNNING').length;
      bar.update(Math.min(closed, expected));
      if ((runs.length >= expected && closed === runs.length) || Date.now() >= deadline) break;
      await sleep(POLL_MS);
    }
  } finally {
    bar.stop();
  }
  for (const r of runs) {
    if (r.status !== 'COMPLETED') continue;
    const result = (await client.workflow
      .getHandle(r.workflowId)
      .result()
      .catch(() => undefined)) as { rowsInserted?: unknown } | undefined;
    r.rowsInserted = typeof result?.rowsInserted === 'number' ? result.rowsInserted : null;
  }
  const completed = runs.filter((r) => r.status === 'COMPLETED').length;
  const closed = runs.filter((r) => r.status !== 'RUNNING').length;
  return {
    scheduleId,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    expected,
    runs,
    completed,
    failed: closed - completed,
    timedOut: runs.length < expected || closed < runs.length,
  };
}

export function formatBackfill(r: BackfillReport): string {
  const rows = r.runs.reduce((n, x) => n + (x.rowsInserted ?? 0), 0);
  const head =
    `backfill of ${r.scheduleId} from ${r.from} to ${r.to}: ${fmt(r.runs.length)} of ${fmt(r.expected)} runs started, ` +
    `${fmt(r.completed)} completed, ${fmt(r.failed)} failed${r.timedOut ? ' — timed out before all of them ended' : ''}; ${fmt(rows)} rows inserted`;
  if (r.runs.length === 0) return head;
  return [
    head,
    formatTable(
      ['workflow', 'scheduled at', 'status', 'rows inserted'],
      r.runs.map((x) => [x.workflowId, x.scheduledAt ?? '-', x.status, x.rowsInserted === null ? '-' : fmt(x.rowsInserted)]),
    ),
  ].join('\n');
}
