// With PostgreSQL down, every command that reads it prints the one POSTGRES_UNREACHABLE line and
// exits 1, as `etl migrate` does: no stack trace, no JSON log line. DATABASE_URL points at a closed
// port (the shared server keeps running); the other servers are the real ones.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../lib/config';

const ETL = path.join(PROJECT_ROOT, 'bin', 'etl');
const DOWN = 'postgres://etl:etl-down-secret@127.0.0.1:9/etl';
const ONE_LINE =
  /^error \[POSTGRES_UNREACHABLE\]: cannot reach PostgreSQL at 127\.0\.0\.1:9\/etl — start it with `etl stack up` or set DATABASE_URL\n$/;

function etl(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // A task queue of its own: `etl status` lists this one's running workflows (none), not anybody's.
    const child = spawn(ETL, args, { env: { ...process.env, DATABASE_URL: DOWN, TEMPORAL_TASK_QUEUE: `pg-down-${process.pid}` } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('PostgreSQL down', () => {
  const commands = [
    ['status'],
    ['status', '--json'],
    ['quarantine', 'list'],
    ['quarantine', 'show', '1'],
    ['quarantine', 'replay', '--json'],
    ['lineage', '3f0c9a52-8d1e-4a5b-9c47-2b1f6e0d7a11'],
    ['lineage', '--object', '1'],
    ['lineage', '--stream', 'ticks', '0b7e6c2a-5d41-5f7e-9a3b-1c2d3e4f5a6b'],
    ['forecast', 'show'],
    ['migrate'],
  ];
  for (const args of commands) {
    it(`etl ${args.join(' ')} prints one line and exits 1`, { timeout: 60_000 }, async () => {
      const r = await etl(args);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, ONE_LINE);
      assert.equal(r.stdout, '');
      assert.doesNotMatch(r.stderr, /etl-down-secret/);
    });
  }
});
