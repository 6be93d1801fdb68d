import { Worker, type NativeConnection } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
}

/** A worker for every workflow and activity of the pipeline, on one task queue. */
export function createWorker(opts: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities(opts.deps),
    // Few, coarse activities: a handful at once keeps 2 cores busy without starving the servers.
    maxConcurrentActivityTaskExecutions: 8,
    shutdownGraceTime: '20 seconds',
  });
}
