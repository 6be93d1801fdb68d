// What a run produced, read back from the database: the demo's closing report.
import type pg from 'pg';
import type { QualityCheck } from '../../activities';
import { ident } from '../../lib/sql';
import { getStream } from '../../streams';
import { fmt, formatTable } from '../output';
import { lakeSummary, type LakeStreamSummary } from './lake';

export interface RunReport {
  tables: { table: string; rows: number }[];
  bronze: { objects: number; records: number; bytes: number; sample: { key: string; records: number; offsets: string }[] };
  quarantine: { reason_code: string; n: number }[];
  quality: QualityCheck[];
  /** The stream's Parquet lake (docs/lake.md). */
  lake: LakeStreamSummary;
}

export async function collectReport(pool: pg.Pool, stream: string, runId: string): Promise<RunReport> {
  const spec = getStream(stream);
  const tables = [];
  for (const table of [spec.rawTable, spec.flatTable, ...spec.materializedViews]) {
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${ident(table)}`);
    tables.push({ table, rows: rows[0]!.n });
  }
  // The quarantine table is shared by every stream: this stream's rows only.
  const {
    rows: [q],
  } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM quarantine WHERE stream = $1', [stream]);
  tables.push({ table: 'quarantine', rows: q!.n });
  const {
    rows: [b],
  } = await pool.query<{ objects: number; records: string; bytes: string }>(
    "SELECT count(*)::int AS objects, coalesce(sum(record_count),0)::text AS records, coalesce(sum(byte_count),0)::text AS bytes FROM bronze_objects WHERE stream = $1 AND status = 'archived'",
    [stream],
  );
  const { rows: sample } = await pool.query<{ key: string; records: number; offsets: string }>(
    `SELECT object_key AS key, record_count AS records, kafka_partition || ':' || first_offset || '-' || last_offset AS offsets
     FROM bronze_objects WHERE stream = $1 AND status = 'archived' ORDER BY id DESC LIMIT 10`,
    [stream],
  );
  const { rows: quarantine } = await pool.query<{ reason_code: string; n: number }>(
    'SELECT reason_code, count(*)::int AS n FROM quarantine WHERE stream = $1 GROUP BY reason_code ORDER BY n DESC',
    [stream],
  );
  const { rows: quality } = await pool.query<QualityCheck>(
    'SELECT check_name AS name, passed, observed, expected, details FROM quality_results WHERE run_id = $1 ORDER BY id',
    [runId],
  );
  const [lake] = await lakeSummary(pool, [stream]);
  return {
    tables,
    bronze: { objects: b!.objects, records: Number(b!.records), bytes: Number(b!.bytes), sample },
    quarantine,
    quality,
    lake: lake!,
  };
}

export function formatReport(r: RunReport, bucket: string): string {
  const out: string[] = [];
  out.push(
    'Tables',
    formatTable(
      ['table', 'rows'],
      r.tables.map((t) => [t.table, fmt(t.rows)]),
    ),
    '',
  );
  out.push(
    `Bronze objects in s3://${bucket}: ${fmt(r.bronze.objects)} objects, ${fmt(r.bronze.records)} records, ${fmt(r.bronze.bytes)} bytes compressed (latest ${r.bronze.sample.length}):`,
  );
  out.push(
    formatTable(
      ['key', 'records', 'partition:offsets'],
      r.bronze.sample.map((s) => [s.key, fmt(s.records), s.offsets]),
    ),
    '',
  );
  const l = r.lake;
  out.push(
    `Parquet lake (silver/${l.stream}/event_date=…/): ${fmt(l.files)} files, ${fmt(l.rows)} rows, ${fmt(l.bytes)} bytes` +
      (l.fromDate ? `, event dates ${l.fromDate} .. ${l.toDate}` : '') +
      (l.objectsBehind ? `; behind ${fmt(l.objectsBehind)} object(s): \`etl lake show\`` : ''),
    '',
  );
  out.push(r.quarantine.length ? 'Quarantined by reason' : 'Quarantined: none');
  if (r.quarantine.length)
    out.push(
      formatTable(
        ['reason', 'records'],
        r.quarantine.map((q) => [q.reason_code, fmt(q.n)]),
      ),
    );
  out.push('', `Quality checks: ${r.quality.filter((q) => q.passed).length}/${r.quality.length} passed`);
  out.push(
    formatTable(
      ['check', 'result', 'observed', 'expected'],
      r.quality.map((q) => [q.name, q.passed ? 'PASS' : 'FAIL', q.observed, q.expected]),
    ),
  );
  return out.join('\n');
}
