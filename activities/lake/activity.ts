// The lake's activities. A write heartbeats while it runs (COPY, DuckDB and the PUTs are single
// calls), and a failed attempt leaves its reason on the object's lake_objects row, so `etl lake`
// shows why an object is behind while Temporal retries it (transient: without limit; unclassified:
// UNKNOWN_ERROR_MAX_ATTEMPTS times, after which the object stays behind for `etl lake sync`).
import { Context } from '@temporalio/activity';
import { isEtlError } from '../../lib/errors';
import { beating, withAttemptBound } from '../attempts';
import type { ActivityDeps } from '../deps';
import { classify } from '../failures';
import { listLakeBehind, type LakeBehindInput } from './behind';
import { noteLakeFailure, writeLakeObject, type LakeWriteInput, type LakeWriteResult } from './write';

export type { LakeBehindInput } from './behind';
export type { LakeWriteInput, LakeWriteResult } from './write';

type Wrap = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => (...args: A) => Promise<R>;

/** One object's lake write, noting a failure where `etl lake` shows it. */
export async function writeLakeNoting(deps: ActivityDeps, input: LakeWriteInput): Promise<LakeWriteResult> {
  try {
    return await writeLakeObject(deps, input);
  } catch (err) {
    const classified = classify(err, deps);
    const code = isEtlError(classified) ? classified.code : 'UNKNOWN_ERROR';
    await noteLakeFailure(deps, input, code, err instanceof Error ? err.message : String(err));
    throw err;
  }
}

export function lakeActivities(deps: ActivityDeps, wrap: Wrap) {
  return {
    /** The Parquet lake files of one loaded object, from its committed flat rows (activities/lake/write.ts). */
    writeLake: wrap(async (input: LakeWriteInput) => {
      const r = await withAttemptBound(
        deps,
        `lake write of object ${input.bronzeObjectId}`,
        () => beating(() => writeLakeNoting(deps, input)),
        (err) => noteLakeFailure(deps, input, err.code, err.message),
      );
      if (!r.upToDate && r.rows > 0)
        Context.current()
          .metricMeter.createCounter('etl_lake_rows_written', 'rows', 'flat rows written to Parquet lake files')
          .add(r.rows, { stream: input.stream });
      return r;
    }),
    /** Loaded objects whose lake files are behind their rows, oldest first: the lake's catch-up queue. */
    listLakeBehind: wrap((input: LakeBehindInput) => listLakeBehind(deps, input)),
  };
}
