// DuckDB from PyPI as a third-party witness that bronze objects are readable by the common tools:
// installed on first use into a git-ignored venv (.stack/cache/duckdb-venv), then driven as
// `python -c`, one query per call, answering JSON on stdout.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../lib/config';

const DUCKDB_VERSION = '2.0.0';
const VENV = path.join(PROJECT_ROOT, '.stack', 'cache', 'duckdb-venv');
const PYTHON = path.join(VENV, 'bin', 'python');
const STAMP = path.join(VENV, 'etl-duckdb-installed');

function check(what: string, r: ReturnType<typeof spawnSync>): void {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}): ${String(r.stderr ?? '').slice(-2000)}`);
}

function ensureDuckdb(): void {
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === DUCKDB_VERSION) return;
  rmSync(VENV, { recursive: true, force: true });
  check('python3 -m venv (Debian: apt-get install python3-venv)', spawnSync('python3', ['-m', 'venv', VENV], { encoding: 'utf8' }));
  check(
    `pip install duckdb==${DUCKDB_VERSION}`,
    spawnSync(path.join(VENV, 'bin', 'pip'), ['install', '--disable-pip-version-check', '-q', `duckdb==${DUCKDB_VERSION}`], {
      encoding: 'utf8',
    }),
  );
  writeFileSync(STAMP, DUCKDB_VERSION);
}

/** Rows of one DuckDB query, as JSON objects; the query may use $file, the path passed in. */
export function duckdbQuery(sql: string, file: string): Record<string, unknown>[] {
  ensureDuckdb();
  const script = [
    'import duckdb, json, sys',
    'con = duckdb.connect()',
    'cur = con.execute(sys.argv[1], {"file": sys.argv[2]})',
    'cols = [d[0] for d in cur.description]',
    'print(json.dumps([dict(zip(cols, row)) for row in cur.fetchall()], default=str))',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', script, sql, file], { encoding: 'utf8' });
  check('duckdb query', r);
  return JSON.parse(r.stdout) as Record<string, unknown>[];
}
