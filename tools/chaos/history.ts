// What the runs' event histories say about retries: each activity that needed more than one
// attempt, with the failure of its last failed attempt. It is the server's own account of the
// faults, independent of what the harness believes it did.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export interface RetriedActivity {
  workflowId: string;
  runId: string;
  activityId: string;
  type: string;
  attempts: number;
  cause: string;
}

function causeOf(f: temporal.api.failure.v1.IFailure | null | undefined): string {
  if (!f) return 'unknown';
  if (f.timeoutFailureInfo) {
    const kind = temporal.api.enums.v1.TimeoutType[f.timeoutFailureInfo.timeoutType ?? 0] ?? 'TIMEOUT';
    return `${kind
      .replace(/^TIMEOUT_TYPE_/, '')
      .toLowerCase()
      .replace(/_/g, '-')} timeout`;
  }
  if (f.applicationFailureInfo?.type) return f.applicationFailureInfo.type;
  return f.message?.split('\n')[0]?.slice(0, 80) ?? 'unknown';
}

/** Retried activities of one workflow id, over all its runs (continue-as-new included). */
export async function retriedActivities(client: Client, workflowId: string, firstRunId: string): Promise<RetriedActivity[]> {
  const out: RetriedActivity[] = [];
  let runId: string | undefined = firstRunId;
  for (let hops = 0; runId && hops < 100; hops++) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const scheduled = new Map<string, { activityId: string; type: string }>();
    let next: string | undefined;
    for (const e of history.events ?? []) {
      const id = String(e.eventId ?? '');
      const s = e.activityTaskScheduledEventAttributes;
      if (s) scheduled.set(id, { activityId: s.activityId ?? '', type: s.activityType?.name ?? '?' });
      const st = e.activityTaskStartedEventAttributes;
      if (st && (st.attempt ?? 1) > 1) {
        const what = scheduled.get(String(st.scheduledEventId ?? ''));
        out.push({
          workflowId,
          runId,
          activityId: what?.activityId ?? '?',
          type: what?.type ?? '?',
          attempts: st.attempt ?? 1,
          cause: causeOf(st.lastFailure),
        });
      }
      next = e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? next;
    }
    runId = next;
  }
  return out;
}
