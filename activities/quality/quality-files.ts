// The quality checks of file sources (migration 015), run by quality.ts in its snapshot: every file
// version read is all in bronze — its objects start at line 1 and tile its lines (the general
// manifest_offsets_contiguous check covers the gaps between them), and the counts the version
// recorded when it was read equal its objects'. A version found but not read yet is named too.
import type pg from 'pg';
import type { QualityCheck } from '../types';

export async function fileSourceChecks(db: pg.PoolClient, stream: string): Promise<QualityCheck[]> {
  const {
    rows: [c],
  } = await db.query<{ unread: number; drift: number; examples: string | null }>(
    `WITH o AS (SELECT source_file_id, count(*) AS objects, sum(record_count) AS records, min(first_offset) AS first_line,
                       count(*) FILTER (WHERE status <> 'archived') AS pending
                FROM bronze_objects WHERE stream = $1 AND source_file_id IS NOT NULL GROUP BY source_file_id),
          bad AS (SELECT f.id FROM source_files f LEFT JOIN o ON o.source_file_id = f.id
                  WHERE f.stream = $1 AND f.status <> 'new'
                    AND (f.object_count IS DISTINCT FROM coalesce(o.objects, 0)::int OR f.record_count IS DISTINCT FROM coalesce(o.records, 0)
                         OR coalesce(o.pending, 0) > 0 OR (o.first_line IS NOT NULL AND o.first_line <> 1)))
     SELECT (SELECT count(*)::int FROM source_files WHERE stream = $1 AND status = 'new') AS unread,
            (SELECT count(*)::int FROM bad) AS drift,
            (SELECT array_to_string((array_agg(id ORDER BY id))[1:5], ', ') FROM bad) AS examples`,
    [stream],
  );
  return [
    {
      name: 'file_versions_read',
      passed: c!.unread === 0,
      observed: String(c!.unread),
      expected: '0',
      details: 'file versions found but not read into bronze yet',
    },
    {
      name: 'file_versions_match_objects',
      passed: c!.drift === 0,
      observed: String(c!.drift),
      expected: '0',
      details: `file versions whose recorded records or objects differ from their bronze objects, or whose objects do not start at line 1 or are pending${c!.examples ? `: ${c!.examples}` : ''}`,
    },
  ];
}
