// Two third-party readers of the Parquet lake, from PyPI: DuckDB and pyarrow (not this project's
// writer, which is DuckDB's Node API), from ./python-witness, given a local copy of the lake's live
// files in their Hive layout. Each answers every row with its values in one canonical text form, and pyarrow also the
// Arrow type of each column and each file's row groups, codecs and encodings.
import { spawnSync } from 'node:child_process';
import type pg from 'pg';
import { flatColumns } from '../../activities/lake/write';
import { ident } from '../../lib/sql';
import { check, witnessPython } from './python-witness';

// Canonical text of a value: Decimal as written (exact), an instant as microseconds since the epoch
// (refusing one without a time zone), a date as ISO, anything else as str.
const CANON = String.raw`
import datetime, decimal, json, sys
import duckdb, pyarrow as pa, pyarrow.dataset as ds, pyarrow.parquet as pq
root = sys.argv[1]
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
def canon(v):
    if v is None: return None
    if isinstance(v, decimal.Decimal): return str(v)
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None or v.utcoffset() != datetime.timedelta(0): return 'NOT UTC: ' + v.isoformat()
        return str((v - EPOCH) // datetime.timedelta(microseconds=1))
    if isinstance(v, datetime.date): return v.isoformat()
    return str(v)
`;
const SCRIPT = String.raw`${CANON}
out = {}
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
cur = con.execute("SELECT * FROM read_parquet(?, hive_partitioning = true)", [root + '/**/*.parquet'])
cols = [d[0] for d in cur.description]
out['duckdb'] = [{c: canon(v) for c, v in zip(cols, row)} for row in cur.fetchall()]
part = ds.partitioning(pa.schema([('event_date', pa.date32())]), flavor='hive')
dataset = ds.dataset(root, format='parquet', partitioning=part)
table = dataset.to_table()
out['pyarrow'] = [{k: canon(v) for k, v in r.items()} for r in table.to_pylist()]
out['schema'] = {f.name: str(f.type) for f in table.schema}
files = []
for f in dataset.files:
    md = pq.ParquetFile(f).metadata
    groups = [md.row_group(i) for i in range(md.num_row_groups)]
    cols = {}
    for g in groups:
        for i in range(g.num_columns):
            c = g.column(i)
            e = cols.setdefault(c.path_in_schema, {'codecs': set(), 'encodings': set()})
            e['codecs'].add(c.compression); e['encodings'].update(c.encodings)
    files.append({'file': f, 'rows': md.num_rows, 'rowGroups': [g.num_rows for g in groups],
                  'columns': {k: {'codecs': sorted(v['codecs']), 'encodings': sorted(v['encodings'])} for k, v in cols.items()},
                  'metadata': {k.decode(): v.decode() for k, v in (md.metadata or {}).items() if k.decode().startswith('etl.')}})
out['files'] = files
print(json.dumps(out))
`;

export type CanonicalRow = Record<string, string | null>;

export interface LakeFileInfo {
  file: string;
  rows: number;
  rowGroups: number[];
  columns: Record<string, { codecs: string[]; encodings: string[] }>;
  metadata: Record<string, string>;
}

export interface LakeReading {
  duckdb: CanonicalRow[];
  pyarrow: CanonicalRow[];
  /** Arrow type of each column as pyarrow reads it, e.g. `decimal128(12, 2)`, `timestamp[us, tz=UTC]`. */
  schema: Record<string, string>;
  files: LakeFileInfo[];
}

/** Every row of the lake copy under `root`, read by DuckDB and by pyarrow. */
export function readLakeCopy(root: string): LakeReading {
  const r = spawnSync(witnessPython(), ['-c', SCRIPT, root], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  check('lake readers (duckdb, pyarrow)', r);
  return JSON.parse(r.stdout) as LakeReading;
}

/** The rows of a flat table in the readers' canonical text, ordered by `keyColumn` (as text, byte order). */
export async function canonicalFlatRows(pool: pg.Pool, flatTable: string, keyColumn: string): Promise<CanonicalRow[]> {
  const columns = await flatColumns(pool, flatTable);
  const canon = (c: { name: string; pgType: string }) => {
    const col = ident(c.name);
    if (c.pgType === 'timestamp with time zone') return `((extract(epoch FROM ${col}) * 1000000)::bigint)::text AS ${col}`;
    if (c.pgType === 'date') return `to_char(${col}, 'YYYY-MM-DD') AS ${col}`;
    return `${col}::text AS ${col}`;
  };
  const { rows } = await pool.query<CanonicalRow>(
    `SELECT ${columns.map(canon).join(', ')} FROM ${ident(flatTable)} ORDER BY ${ident(keyColumn)}::text COLLATE "C"`,
  );
  return rows;
}

// Old and new files of a lake whose stream gained a column, read together by column name: DuckDB's
// union_by_name (as docs/lake.md gives it) and a pyarrow dataset over the files' unified schema.
const UNION_SCRIPT = String.raw`${CANON}
out = {}
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
cur = con.execute("SELECT * FROM read_parquet(?, hive_partitioning = true, hive_types = {'event_date': DATE}, union_by_name = true)", [root + '/event_date=*/*.parquet'])
cols = [d[0] for d in cur.description]
out['duckdb'] = [{c: canon(v) for c, v in zip(cols, row)} for row in cur.fetchall()]
part = ds.partitioning(pa.schema([('event_date', pa.date32())]), flavor='hive')
files = ds.dataset(root, format='parquet', partitioning=part).files
schema = pa.unify_schemas([pq.read_schema(f) for f in files]).append(pa.field('event_date', pa.date32()))
table = ds.dataset(root, format='parquet', partitioning=part, schema=schema).to_table()
out['pyarrow'] = [{k: canon(v) for k, v in r.items()} for r in table.to_pylist()]
out['files'] = [{'file': f, 'columns': pq.read_schema(f).names} for f in files]
print(json.dumps(out))
`;

export interface LakeUnionReading {
  duckdb: CanonicalRow[];
  pyarrow: CanonicalRow[];
  /** Each file with the columns it carries. */
  files: { file: string; columns: string[] }[];
}

/** Every row of the lake copy under `root`, its files read together by column name. */
export function readLakeUnion(root: string): LakeUnionReading {
  const r = spawnSync(witnessPython(), ['-c', UNION_SCRIPT, root], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  check('lake readers by column name (duckdb union_by_name, pyarrow unified schema)', r);
  return JSON.parse(r.stdout) as LakeUnionReading;
}
