import type { Client, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Config } from '../../lib/config';
import { scopedId } from '../../lib/deployment';
import { readableWorkflowId } from '../../lib/temporal';
import type { PipelineProgress, PipelineResult } from '../../workflows';
import { waitWithProgress } from '../output';

export async function startPipeline(client: Client, config: Config, stream: string): Promise<WorkflowHandle> {
  return client.workflow.start('pipelineWorkflow', {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId: scopedId(config, readableWorkflowId('pipeline', stream)),
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

/** Waits for the result; with `expectedRecords`, draws a bar of records settled (loaded, duplicate or quarantined). */
export function waitForPipeline(handle: WorkflowHandle, expectedRecords?: number): Promise<PipelineResult> {
  return waitWithProgress<PipelineProgress, PipelineResult>(handle, 'pipeline', (p) =>
    expectedRecords ? { done: p.rowsInserted + p.duplicates + p.quarantined, total: expectedRecords } : undefined,
  );
}
