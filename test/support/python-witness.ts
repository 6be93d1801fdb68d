// Python with the third-party readers the tests call as witnesses (DuckDB, pyarrow; pytz because
// DuckDB's Python client needs it for TIMESTAMP WITH TIME ZONE), from PyPI, installed on first use
// into one git-ignored venv of the state dir. Test files run side by side: one installs while the
// others wait on its lock (flock(1): the kernel releases it if the installer dies), then they find
// the stamp and go on.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../lib/config';

const PACKAGES = 'duckdb==2.0.0 pyarrow==26.0.1 pytz==2025.2';
const VENV = path.join(loadConfig().ETL_STATE_DIR, 'cache', 'witness-venv');
const STAMP = path.join(VENV, 'etl-witness-installed');

export function check(what: string, r: ReturnType<typeof spawnSync>): void {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}): ${String(r.stderr ?? '').slice(-2000)}`);
}

/** The venv's python, installing it first when it is missing or holds other versions. */
export function witnessPython(): string {
  if (!existsSync(STAMP) || readFileSync(STAMP, 'utf8') !== PACKAGES) {
    mkdirSync(path.dirname(VENV), { recursive: true });
    const install =
      'test "$(cat "$STAMP" 2>/dev/null)" = "$PACKAGES" && exit 0; rm -rf "$VENV" && python3 -m venv "$VENV" && ' +
      '"$VENV/bin/pip" install --disable-pip-version-check -q $PACKAGES && printf %s "$PACKAGES" > "$STAMP"';
    check(
      `python3 -m venv and pip install ${PACKAGES} (Debian: apt-get install python3-venv)`,
      spawnSync('flock', [`${VENV}.lock`, 'sh', '-c', install], { encoding: 'utf8', env: { ...process.env, VENV, STAMP, PACKAGES } }),
    );
  }
  return path.join(VENV, 'bin', 'python');
}
