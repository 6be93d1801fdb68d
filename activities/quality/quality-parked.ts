// The quality checks about parked objects (lib/parked.ts), run by quality.ts in its snapshot. A
// parked object is neither lost nor loaded: its records wait in bronze, none of them is in the
// tables, and the check names it until `etl objects retry` has loaded it.
import type pg from 'pg';
import { isParkedSql, listParked } from '../../lib/parked';
import { describeParked } from '../../shared/parked';
import { ident } from '../../lib/sql';
import type { QualityCheck } from '../types';

const NAMED = 5;

export async function parkedObjectChecks(db: pg.PoolClient, stream: string, flatTable: string): Promise<QualityCheck[]> {
  const {
    rows: [n],
  } = await db.query<{ objects: number; records: number }>(
    `SELECT count(*)::int AS objects, coalesce(sum(record_count), 0)::int AS records FROM bronze_objects WHERE stream = $1 AND ${isParkedSql()}`,
    [stream],
  );
  const named = n!.objects > 0 ? await listParked(db, { stream, limit: NAMED }) : [];
  const {
    rows: [loaded],
  } = await db.query<{ n: number }>(
    `SELECT ((SELECT count(*) FROM loads l JOIN bronze_objects b ON b.id = l.bronze_object_id WHERE b.stream = $1 AND ${isParkedSql('b')})
           + (SELECT count(*) FROM ${ident(flatTable)} f JOIN bronze_objects b ON b.id = f.bronze_object_id WHERE b.stream = $1 AND ${isParkedSql('b')}))::int AS n`,
    [stream],
  );
  return [
    {
      name: 'no_parked_objects',
      passed: n!.objects === 0,
      observed: String(n!.objects),
      expected: '0',
      details:
        n!.objects === 0
          ? 'bronze objects parked after a final transform or load failure'
          : `${named.map((p) => describeParked(p, 80)).join(', ')}${n!.objects > named.length ? ` and ${n!.objects - named.length} more` : ''}; ` +
            `${n!.records} records wait in bronze; after the fix: etl objects retry ${named[0]!.id}`,
    },
    {
      name: 'parked_objects_not_loaded',
      passed: loaded!.n === 0,
      observed: String(loaded!.n),
      expected: '0',
      details: `loads and ${flatTable} rows of parked objects: a parked object is loaded by its retry, once`,
    },
  ];
}
