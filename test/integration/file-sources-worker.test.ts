// A worker killed (SIGKILL) in the middle of a file: another worker finishes the run, and every
// record of the file is in bronze and in the flat table exactly once — nothing lost, nothing twice.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { filesInput } from '../../client/commands/ingest-files';
import { PROJECT_ROOT } from '../../lib/config';
import { connectClient } from '../../lib/temporal';
import { syntheticTransaction } from '../../streams/transactions/generator';
import type { SourceResult } from '../../workflows';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';
import { configEnv } from '../support/isolation';

const gen = { seed: 162, startMs: Date.parse('2026-11-20T00:00:00Z'), windowMs: 86_400_000 };
const RECORDS = 120_000;
const PER_OBJECT = 2_000;

describe('file sources: a worker killed mid-file', () => {
  let env: TestEnv;
  let dir: string;

  before(async () => {
    env = await isolatedEnv('files_kill');
    dir = await mkdtemp(path.join(tmpdir(), 'etl-files-kill-'));
    const lines = Array.from({ length: RECORDS }, (_, i) => JSON.stringify(syntheticTransaction(i, gen)));
    await writeFile(path.join(dir, 'big.jsonl'), lines.join('\n') + '\n');
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await env?.cleanup();
  });

  it('loses and duplicates nothing', { timeout: 240_000 }, async () => {
    const child = spawn(path.join(PROJECT_ROOT, 'bin', 'etl'), ['worker'], {
      env: { ...process.env, ...configEnv(env.config), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const client = await connectClient(env.config);
    const workflowId = `files-kill-${env.id}`;
    let archivedAtKill = 0;
    try {
      await client.workflow.start('sourceWorkflow', {
        taskQueue: env.config.TEMPORAL_TASK_QUEUE,
        workflowId,
        args: [{ ...filesInput(env.config, 'transactions', dir), maxRecordsPerObject: PER_OBJECT }],
      });
      for (let i = 0; i < 1_200 && archivedAtKill < 5; i++) {
        const { rows } = await env.pool
          .query<{ n: number }>("SELECT count(*)::int AS n FROM bronze_objects WHERE source_kind = 'file' AND status = 'archived'")
          .catch(() => ({ rows: [{ n: 0 }] }));
        archivedAtKill = rows[0]!.n;
        if (archivedAtKill < 5) await new Promise((r) => setTimeout(r, 50));
      }
      child.kill('SIGKILL');
      await exited;
      assert.ok(
        archivedAtKill >= 5 && archivedAtKill < RECORDS / PER_OBJECT,
        `killed mid-file (${archivedAtKill} objects archived) ${stderr}`,
      );
    } finally {
      await client.connection.close();
    }
    const result = await withWorker(env, (c) => c.workflow.getHandle(workflowId).result() as Promise<SourceResult>);
    assert.equal(result.quality.passed, true, JSON.stringify(result.quality.checks.filter((c) => !c.passed)));
    const { rows } = await env.pool.query<{ flat: number; distinct_ids: number; status: string; records: string }>(
      `SELECT (SELECT count(*)::int FROM transactions_flat) AS flat, (SELECT count(DISTINCT transaction_id)::int FROM transactions_flat) AS distinct_ids,
              (SELECT status FROM source_files) AS status, (SELECT record_count::text FROM source_files) AS records`,
    );
    assert.deepEqual(rows[0], { flat: RECORDS, distinct_ids: RECORDS, status: 'read', records: String(RECORDS) });
    const { rows: objects } = await env.pool.query<{ first_offset: string; last_offset: string; status: string; object_key: string }>(
      "SELECT first_offset::text, last_offset::text, status, object_key FROM bronze_objects b WHERE source_kind = 'file' ORDER BY b.first_offset",
    );
    let next = 1;
    for (const o of objects) {
      assert.equal(Number(o.first_offset), next, 'object ranges tile the file');
      assert.equal(o.status, 'archived');
      next = Number(o.last_offset) + 1;
    }
    assert.equal(next, RECORDS + 1);
    const keys = await env.listKeys('bronze/');
    assert.deepEqual(keys.sort(), objects.map((o) => o.object_key).sort(), 'the bucket holds exactly the manifest objects');
    const { rows: dup } = await env.pool.query<{ n: number }>('SELECT coalesce(sum(duplicate_count), 0)::int AS n FROM loads');
    assert.equal(dup[0]!.n, 0);
  });
});
