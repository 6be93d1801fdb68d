// The activity factory: the worker builds the clients once and hands them in; every activity is
// wrapped so failures carry their taxonomy code and permanent ones are not retried.
import { archive } from './archive';
import type { ActivityDeps } from './deps';
import { asActivity } from './failures';
import { ingest } from './ingest';
import { load } from './load';
import { quality } from './quality';
import { transform } from './transform';
import type { ArchiveInput, IngestInput, LoadInput, PendingObject, QualityInput, TransformInput } from './types';
import { ident } from '../lib/sql';
import { getStream } from '../streams';

export type { ActivityDeps } from './deps';
export type * from './types';

export function createActivities(deps: ActivityDeps) {
  const wrap = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => asActivity(deps, fn);
  return {
    ingest: wrap((input: IngestInput) => ingest(deps, input)),
    archive: wrap((input: ArchiveInput) => archive(deps, input)),
    transform: wrap((input: TransformInput) => transform(deps, input)),
    load: wrap((input: LoadInput) => load(deps, input)),
    quality: wrap((input: QualityInput) => quality(deps, input)),

    /** Archived objects not loaded yet, oldest first: the work queue lives in the manifest. */
    listUnloadedObjects: wrap(async (input: { stream: string; limit: number }): Promise<PendingObject[]> => {
      const { rows } = await deps.pool.query<{ id: string; object_key: string; record_count: number; transformed: boolean }>(
        `SELECT id, object_key, record_count, transformed_at IS NOT NULL AS transformed FROM bronze_objects
         WHERE stream = $1 AND status = 'archived' AND loaded_at IS NULL ORDER BY id LIMIT $2`,
        [input.stream, input.limit],
      );
      return rows.map((r) => ({ bronzeObjectId: Number(r.id), objectKey: r.object_key, recordCount: r.record_count, transformed: r.transformed }));
    }),

    /** CONCURRENTLY: dashboards keep reading the previous contents while it refreshes. */
    refreshAggregates: wrap(async (input: { stream: string }): Promise<string[]> => {
      const views = getStream(input.stream).materializedViews;
      for (const view of views) await deps.pool.query(`REFRESH MATERIALIZED VIEW CONCURRENTLY ${ident(view)}`);
      return [...views];
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
