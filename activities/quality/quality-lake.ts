// The quality checks of the Parquet lake (docs/lake.md), run by quality.ts in its snapshot: the lake
// holds exactly the flat rows, object by object. Counts are compared per object (flat rows by
// bronze_object_id against the rows of its live files and of its lake_objects row), never as a
// remainder, and the bucket is listed against the manifest: a file deleted, added, or rewritten
// with other bytes than the manifest recorded fails a check. Like the two "drained" checks of
// quality.ts, these can see work in flight: a lake write running beside them (a stream next to a run).
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { lakeStreamPrefix } from '../../lib/lake';
import { ident } from '../../lib/sql';
import { getStream } from '../../streams';
import type { ActivityDeps } from '../deps';
import { LAKE_BEHIND } from '../lake/behind';
import type { QualityCheck } from '../types';

const NAMED = 5;

const check = (name: string, observed: number, expected: number, details: string): QualityCheck => ({
  name,
  passed: observed === expected,
  observed: String(observed),
  expected: String(expected),
  details,
});

/** Keys and sizes of the lake files of `stream` in the bucket. */
async function listLakeFiles(deps: Pick<ActivityDeps, 's3' | 'config'>, stream: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await deps.s3.send(
      new ListObjectsV2Command({
        Bucket: deps.config.S3_BUCKET,
        Prefix: lakeStreamPrefix(deps.config.S3_PREFIX, stream),
        ContinuationToken: token,
      }),
    );
    for (const o of page.Contents ?? []) if (o.Key?.endsWith('.parquet')) found.set(o.Key, o.Size ?? -1);
    token = page.NextContinuationToken;
  } while (token);
  return found;
}

export async function lakeChecks(deps: Pick<ActivityDeps, 's3' | 'config'>, db: pg.PoolClient, stream: string): Promise<QualityCheck[]> {
  const flat = ident(getStream(stream).flatTable);
  const {
    rows: [behind],
  } = await db.query<{ n: number; examples: string | null }>(
    `SELECT count(*)::int AS n, array_to_string((array_agg(b.id ORDER BY b.id))[1:5], ', ') AS examples
     FROM bronze_objects b LEFT JOIN lake_objects l ON l.bronze_object_id = b.id WHERE b.stream = $1 AND ${LAKE_BEHIND}`,
    [stream],
  );
  // Objects whose lake is current, each compared on its own: flat rows, rows of its live files, rows it recorded.
  const {
    rows: [drift],
  } = await db.query<{ n: number; examples: string | null }>(
    `WITH f AS (SELECT bronze_object_id AS id, count(*) AS n FROM ${flat} GROUP BY 1),
          lf AS (SELECT bronze_object_id AS id, sum(rows) AS n, count(*) AS files FROM lake_files WHERE stream = $1 AND live GROUP BY 1)
     SELECT count(*)::int AS n, array_to_string((array_agg(b.id ORDER BY b.id))[1:5], ', ') AS examples
     FROM bronze_objects b JOIN lake_objects l ON l.bronze_object_id = b.id LEFT JOIN f ON f.id = b.id LEFT JOIN lf ON lf.id = b.id
     WHERE b.stream = $1 AND b.loaded_at IS NOT NULL AND l.rows_version >= b.rows_version
       AND (coalesce(f.n, 0) <> coalesce(lf.n, 0) OR l.rows <> coalesce(lf.n, 0) OR l.files <> coalesce(lf.files, 0))`,
    [stream],
  );
  // Rows no lake file can hold: of no bronze object, or of one that is not loaded.
  const {
    rows: [homeless],
  } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${flat} f
     WHERE f.bronze_object_id IS NULL OR NOT EXISTS (SELECT 1 FROM bronze_objects b WHERE b.id = f.bronze_object_id AND b.loaded_at IS NOT NULL)`,
  );
  const { rows: live } = await db.query<{ object_key: string; bytes: string }>(
    'SELECT object_key, bytes::text FROM lake_files WHERE stream = $1 AND live',
    [stream],
  );
  const stored = await listLakeFiles(deps, stream);
  const recorded = new Map(live.map((r) => [r.object_key, Number(r.bytes)]));
  const missing = [...recorded.keys()].filter((k) => !stored.has(k));
  const orphans = [...stored.keys()].filter((k) => !recorded.has(k));
  const resized = [...recorded].filter(([k, bytes]) => stored.has(k) && stored.get(k) !== bytes).map(([k]) => k);
  const named = [
    ...missing.map((k) => `missing ${k}`),
    ...orphans.map((k) => `not in the manifest ${k}`),
    ...resized.map((k) => `other bytes ${k}`),
  ];
  return [
    check(
      'lake_objects_current',
      behind!.n,
      0,
      `loaded objects whose lake files are behind their rows_version or have keys of an unfinished write${behind!.examples ? `: ${behind!.examples}` : ''} (\`etl lake sync\`)`,
    ),
    check(
      'lake_rows_match_flat',
      drift!.n,
      0,
      `objects whose live lake files hold another number of rows than their flat rows, or than lake_objects recorded${drift!.examples ? `: ${drift!.examples}` : ''}`,
    ),
    check('lake_holds_every_flat_row', homeless!.n, 0, 'flat rows of no loaded bronze object, which no lake file holds'),
    check(
      'lake_files_match_storage',
      named.length,
      0,
      `lake files in the bucket against the live keys of lake_files, and their sizes${named.length ? `: ${named.slice(0, NAMED).join('; ')}` : ''}`,
    ),
  ];
}
