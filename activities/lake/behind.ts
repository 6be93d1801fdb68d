// The lake's catch-up queue: loaded objects whose rows_version is greater than the version their
// lake files hold (never written, re-derived by a replay since, or a write that failed), and the
// objects with keys an interrupted write left (not live). Read by the pipeline's catch-up, the
// replay, `etl lake sync` and `etl lake`.
import type pg from 'pg';
import type { ActivityDeps } from '../deps';

/** Loaded objects of `stream` the lake is behind, or has leftover keys of; `b` is bronze_objects, `l` lake_objects. */
export const LAKE_BEHIND = `b.loaded_at IS NOT NULL AND (b.rows_version > coalesce(l.rows_version, 0)
  OR EXISTS (SELECT 1 FROM lake_files f WHERE f.bronze_object_id = b.id AND NOT f.live))`;

export interface LakeBehindInput {
  stream: string;
  /** Id cursor: objects after this one, so an object that keeps failing is not listed again in the same pass. */
  afterId: number;
  limit: number;
  /** Only these objects (those a quarantine replay changed); all of the stream's when absent. */
  bronzeObjectIds?: readonly number[];
}

export interface LakeBehindObject {
  bronzeObjectId: number;
}

export async function listLakeBehind(deps: Pick<ActivityDeps, 'pool'>, input: LakeBehindInput): Promise<LakeBehindObject[]> {
  return lakeBehind(deps.pool, input);
}

export async function lakeBehind(db: pg.Pool | pg.PoolClient, input: LakeBehindInput): Promise<LakeBehindObject[]> {
  const { rows } = await db.query<{ id: number }>(
    `SELECT b.id::int AS id FROM bronze_objects b LEFT JOIN lake_objects l ON l.bronze_object_id = b.id
     WHERE b.stream = $1 AND b.id > $2 AND ($4::bigint[] IS NULL OR b.id = ANY($4)) AND ${LAKE_BEHIND} ORDER BY b.id LIMIT $3`,
    [input.stream, input.afterId, input.limit, input.bronzeObjectIds ?? null],
  );
  return rows.map((r) => ({ bronzeObjectId: r.id }));
}
