// The threads that run the one pass over each bronze object (activities/transform-load/pass.ts),
// so the CPU-bound part of transform-and-load (gunzip, JSON parse, validation, encoding) runs on the
// other cores while the activity's own thread keeps talking to Temporal (heartbeats, cancellation)
// and PostgreSQL (COPY). A cancelled activity ends its pass: the thread running it is terminated.
// The same entry runs from source under tsx (a thread inherits the process's --import) and built.
// Every stream runs here, declared streams of ETL_STREAMS_DIR as the built-in ones.
import path from 'node:path';
import { Tinypool } from 'tinypool';
import type { ActivityDeps } from '../activities';
import type { PassResult, PassTask } from '../activities/transform-load/pass';
import { passThreadError, type PassThreadOutcome, type PassThreadTask } from '../activities/transform-load/pass-thread';
import type { RunPass } from '../activities/transform-load/transform-load';
import { RUNNING_BUILT, type Config } from '../lib/config';

const ENTRY = path.join(__dirname, '..', 'activities', 'transform-load', RUNNING_BUILT ? 'pass-thread.js' : 'pass-thread.ts');

/** Threads idle this long end, so an idle worker holds none. */
const IDLE_MS = 30_000;
/**
 * A pass streams its object, so a thread needs little heap; with V8's default limit (a quarter of
 * the machine's memory, per thread) each heap grows long before a major GC and the worker's RSS
 * with it. A bounded old space keeps each thread small, as bin/etl does for the main thread.
 */
const THREAD_OLD_SPACE_MB = 128;

export interface PassPool {
  runPass: RunPass;
  /** Passes the threads have finished. */
  completed(): number;
  /** Ends the threads (a pass still running is terminated). */
  close(): Promise<void>;
}

/** TRANSFORM_THREADS threads; none when it is 0 (the pass then runs on the activity's own thread). */
export function createPassPool(config: Pick<Config, 'TRANSFORM_THREADS'>): PassPool | undefined {
  if (config.TRANSFORM_THREADS === 0) return undefined;
  const pool = new Tinypool({
    filename: ENTRY,
    minThreads: 0,
    maxThreads: config.TRANSFORM_THREADS,
    idleTimeout: IDLE_MS,
    resourceLimits: { maxOldGenerationSizeMb: THREAD_OLD_SPACE_MB },
  });
  return {
    async runPass(task: PassTask, deps: ActivityDeps, signal: AbortSignal): Promise<PassResult> {
      // A thread loads the same declarations as this one: the worker's ETL_STREAMS_DIR, in its config.
      const input: PassThreadTask = { task, config: deps.config };
      const outcome = (await pool.run(input, { signal })) as PassThreadOutcome;
      if (!outcome.ok) throw passThreadError(outcome.failure);
      return outcome.result;
    },
    completed: () => pool.completed,
    close: () => pool.destroy(),
  };
}
