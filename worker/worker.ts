import { Worker, type NativeConnection } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { ensureSearchAttributes } from '../lib/search-attributes';
import { useStreamsDir } from '../streams';
import { startLagMetrics } from './lag-metrics';
import { startSearchMetrics } from './search-metrics';
import { installActivityLogContext } from './log-context';
import { createPassPool } from './pass-pool';
import { workflowBundle } from './workflow-code';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
}

/** A worker for every workflow and activity of the pipeline, on one task queue. */
export async function createWorker(opts: WorkerOptions): Promise<Worker> {
  // The streams of the worker's own setting, as its pass threads load them (a bad declaration stops it here).
  useStreamsDir(opts.deps.config.ETL_STREAMS_DIR);
  await ensureSearchAttributes(opts.connection, opts.namespace);
  installActivityLogContext();
  const passPool = createPassPool(opts.deps.config);
  const worker = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(opts.deps, passPool?.runPass),
    // Few, coarse activities: a handful at once keeps 2 cores busy without starving the servers.
    maxConcurrentActivityTaskExecutions: 8,
    shutdownGraceTime: '20 seconds',
    // After a worker dies, its cached workflows' next tasks wait this long on its sticky queue
    // before going to another worker: short, so a continuous stream recovers in seconds.
    stickyQueueScheduleToStartTimeout: '3 seconds',
    // Cancellation reaches an activity only with a heartbeat's response: heartbeats go out at least
    // this often, so a continuous stream's follower learns within seconds that it should end.
    maxHeartbeatThrottleInterval: '2 seconds',
  });
  startLagMetrics(worker, opts.deps);
  startSearchMetrics(worker, opts.deps);
  if (passPool) {
    // The threads end with the worker, whichever way it is run (run, runUntil: both go through run).
    const run = worker.run.bind(worker);
    worker.run = () => run().finally(() => passPool.close());
  }
  return worker;
}
