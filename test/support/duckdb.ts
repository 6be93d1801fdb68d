// DuckDB from PyPI as a third-party witness that bronze objects are readable by the common tools:
// from ./python-witness, driven as `python -c`, one query per call, answering JSON on stdout.
import { spawnSync } from 'node:child_process';
import { check, witnessPython } from './python-witness';

/** Rows of one DuckDB query, as JSON objects; the query may use $file, the path passed in. */
export function duckdbQuery(sql: string, file: string): Record<string, unknown>[] {
  const script = [
    'import duckdb, json, sys',
    'con = duckdb.connect()',
    'cur = con.execute(sys.argv[1], {"file": sys.argv[2]})',
    'cols = [d[0] for d in cur.description]',
    'print(json.dumps([dict(zip(cols, row)) for row in cur.fetchall()], default=str))',
  ].join('\n');
  const r = spawnSync(witnessPython(), ['-c', script, sql, file], { encoding: 'utf8' });
  check('duckdb query', r);
  return JSON.parse(r.stdout) as Record<string, unknown>[];
}
