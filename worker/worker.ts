import { Worker, type NativeConnection } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { ensureSearchAttributes } from '../lib/search-attributes';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
}

/** A worker for every workflow and activity of the pipeline, on one task queue. */
export async function createWorker(opts: WorkerOptions): Promise<Worker> {
  await ensureSearchAttributes(opts.connection, opts.namespace);
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities(opts.deps),
    // Few, coarse activities: a handful at once keeps 2 cores busy without starving the servers.
    maxConcurrentActivityTaskExecutions: 8,
    shutdownGraceTime: '20 seconds',
    // After a worker dies, its cached workflows' next tasks wait this long on its sticky queue
    // before going to another worker: short, so a continuous stream recovers in seconds.
    stickyQueueScheduleToStartTimeout: '3 seconds',
  });
}
