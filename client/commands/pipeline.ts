import type { Client, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Config } from '../../lib/config';
import { readableWorkflowId } from '../../lib/temporal';
import type { PipelineProgress, PipelineResult } from '../../workflows';
import { progressBar } from '../output';

export async function startPipeline(client: Client, config: Config, stream: string): Promise<WorkflowHandle> {
  return client.workflow.start('pipelineWorkflow', {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId: readableWorkflowId('pipeline', stream),
    args: [{ stream, objectConcurrency: config.PIPELINE_OBJECT_CONCURRENCY }],
    // One run per stream at a time, like Airflow's max_active_runs=1.
    workflowIdConflictPolicy: 'FAIL',
  });
}

/** True when at least one worker polls the task queue (else a started run would just wait). */
export async function hasWorker(client: Client, config: Config): Promise<boolean> {
  const res = await client.workflowService.describeTaskQueue({
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: { name: config.TEMPORAL_TASK_QUEUE },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (res.pollers ?? []).length > 0;
}

/** Waits for the result, drawing progress from the workflow's `progress` query. */
export async function waitForPipeline(handle: WorkflowHandle, expectedRecords?: number): Promise<PipelineResult> {
  const bar = expectedRecords ? progressBar('pipeline', expectedRecords) : undefined;
  const timer = setInterval(() => {
    handle
      .query<PipelineProgress>('progress')
      .then((p) => bar?.update(Math.min(p.rowsInserted + p.duplicates + p.quarantined, expectedRecords ?? 0)))
      .catch(() => undefined);
  }, 1_000);
  try {
    return (await handle.result()) as PipelineResult;
  } finally {
    clearInterval(timer);
    bar?.stop();
  }
}
