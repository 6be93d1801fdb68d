// One run of the per-stage figures: produce a backlog, then drive each activity directly (outside a
// worker, through MockActivityEnvironment) so each stage's own cost is timed without Temporal's.
// Objects are processed one at a time: this is the throughput of one activity on one object.
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type ActivityDeps } from '../../activities';
import type { PassTask } from '../../activities/transform-load/pass';
import { passInline } from '../../activities/transform-load/pass-inline';
import type { Config } from '../../lib/config';
import { transactionMessage } from '../../streams/transactions/synthetic';
import { bareCopy } from './copy';
import { benchEnv, produceBacklog, STREAM } from './env';
import { perSecond, timed } from './stats';

export interface StageFigures {
  events: number;
  producer_events_per_s: number;
  archive_events_per_s: number;
  /** Uncompressed Kafka value bytes archived per second. */
  archive_mb_per_s: number;
  transform_events_per_s: number;
  load_rows_per_s: number;
  copy_rows_per_s: number;
  load_vs_copy_ratio: number;
  objects: number;
}

const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
  new MockActivityEnvironment().run(fn, ...args) as Promise<R>;

/** Mean bytes of one event's Kafka value, from a sample of the generator's output. */
export function meanEventBytes(seed: number): number {
  const gen = { seed, startMs: Date.now(), windowMs: 86_400_000 };
  let bytes = 0;
  for (let i = 0; i < 1_000; i++) bytes += Buffer.byteLength(String(transactionMessage(i, gen).value));
  return bytes / 1_000;
}

export async function stageRun(base: Config, events: number, seed: number): Promise<StageFigures> {
  const env = await benchEnv(base, 'stage');
  try {
    // Transform and load are one activity: its pass (read bronze, validate, spool the silver lines and the
    // rows) is timed apart, and the load is the rest of the activity (its transaction).
    let passMs = 0;
    const timedPass = async (task: PassTask, deps: ActivityDeps) => {
      const t = await timed(() => passInline(task, deps));
      passMs += t.ms;
      return t.value;
    };
    const acts = createActivities(env, timedPass);
    const produced = await timed(() => produceBacklog(env, events, seed));

    // The stage activities, called one object at a time: these three calls follow the activities' names.
    const archived = await timed(async () => {
      let records = 0;
      for (;;) {
        const r = await run(acts.archive, { stream: STREAM, maxObjects: 1_000 });
        records += r.recordsArchived;
        if (r.caughtUp) return records;
      }
    });
    const { rows: objects } = await env.pool.query<{ id: string }>("SELECT id FROM bronze_objects WHERE status = 'archived' ORDER BY id");
    const passed = await timed(async () => {
      let inserted = 0;
      for (const o of objects)
        inserted += (await run(acts.transformAndLoad, { stream: STREAM, bronzeObjectId: Number(o.id), workflowId: `bench-${env.id}` }))
          .inserted;
      return inserted;
    });
    const copied = await bareCopy(env.pool, env.config.PG_SCHEMA);
    const load = perSecond(passed.value, passed.ms - passMs);
    const copy = perSecond(copied.rows, copied.ms);
    return {
      events,
      producer_events_per_s: perSecond(produced.value, produced.ms),
      archive_events_per_s: perSecond(archived.value, archived.ms),
      archive_mb_per_s: (archived.value * meanEventBytes(seed)) / 1e6 / (archived.ms / 1000),
      transform_events_per_s: perSecond(archived.value, passMs),
      load_rows_per_s: load,
      copy_rows_per_s: copy,
      load_vs_copy_ratio: load / copy,
      objects: objects.length,
    };
  } finally {
    await env.cleanup();
  }
}
