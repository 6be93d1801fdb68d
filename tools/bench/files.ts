// File sources on a file larger than the worker's heap: one gzip-less JSONL file of `mb` megabytes,
// read and loaded by a worker process whose V8 heap is capped at `heapMb` (--max-old-space-size),
// with its peak RSS (VmHWM). A file source that held a file in memory would die here; one that
// streams keeps its RSS flat, whatever the file's size.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT, type Config } from '../../lib/config';
import { connectClient } from '../../lib/temporal';
import { syntheticTransaction } from '../../streams/transactions/generator';
import type { SourceResult } from '../../workflows';
import { benchEnv, STREAM } from './env';
import { perSecond, timed } from './stats';
import { startWorker } from './worker';

export interface FilesFigures {
  file_mb: number;
  records: number;
  worker_heap_limit_mb: number;
  worker_peak_rss_mb: number;
  seconds: number;
  records_per_s: number;
  mb_per_s: number;
  objects: number;
  rows_inserted: number;
}

/** Writes synthetic transactions as JSONL until the file holds `mb` megabytes; returns the record count. */
async function writeJsonl(file: string, mb: number, seed: number): Promise<number> {
  const out = createWriteStream(file);
  const gen = { seed, startMs: Date.now() - 86_400_000, windowMs: 86_400_000 };
  let bytes = 0;
  let n = 0;
  while (bytes < mb * 1e6) {
    let chunk = '';
    for (let i = 0; i < 1_000; i++) chunk += JSON.stringify(syntheticTransaction(n++, gen)) + '\n';
    bytes += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return n;
}

export async function filesRun(base: Config, mb: number, heapMb: number, seed: number, say: (line: string) => void): Promise<FilesFigures> {
  const env = await benchEnv(base, 'files');
  const dir = path.join(env.config.ETL_STATE_DIR, 'bench', `files-${env.id}`);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'backfill.jsonl');
  try {
    const records = await writeJsonl(file, mb, seed);
    const size = (await stat(file)).size;
    say(`  ${(size / 1e6).toFixed(0)} MB, ${records.toLocaleString('en-US')} records; worker heap capped at ${heapMb} MB`);
    // bin/etl builds first when the sources changed: done here, without the heap cap (tsc needs more).
    execFileSync(path.join(PROJECT_ROOT, 'bin', 'etl'), ['--help'], { stdio: 'ignore' });
    const worker = await startWorker({ ...env, workerEnv: { ...env.workerEnv, NODE_OPTIONS: `--max-old-space-size=${heapMb}` } }, say);
    const client = await connectClient(env.config);
    try {
      const run = await timed(
        () =>
          client.workflow.execute('sourceWorkflow', {
            taskQueue: env.config.TEMPORAL_TASK_QUEUE,
            workflowId: `bench-files-${env.id}`,
            args: [{ source: 'files', stream: STREAM, location: dir, objectConcurrency: env.config.PIPELINE_OBJECT_CONCURRENCY }],
          }) as Promise<SourceResult>,
      );
      if (run.value.rowsInserted !== records) throw new Error(`loaded ${run.value.rowsInserted} of ${records} records`);
      return {
        file_mb: size / 1e6,
        records,
        worker_heap_limit_mb: heapMb,
        worker_peak_rss_mb: worker.peakRssMb(),
        seconds: run.ms / 1000,
        records_per_s: perSecond(records, run.ms),
        mb_per_s: size / 1e6 / (run.ms / 1000),
        objects: run.value.objectsArchived,
        rows_inserted: run.value.rowsInserted,
      };
    } finally {
      await client.connection.close();
      await worker.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await env.cleanup();
  }
}
