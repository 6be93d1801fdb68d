// An object whose attempts keep dying with their worker. Nothing classifies a SIGKILL: the attempt
// just stops heartbeating and Temporal retries the timeout, without limit, as it would a transient
// failure. Here the test holds the object's load lock so that every attempt at it is caught mid-way,
// and kills the real worker process (`etl worker`) under it, twice, with UNKNOWN_ERROR_MAX_ATTEMPTS
// at 2. The third attempt counts two lost from the heartbeats Temporal hands it, and is refused: the
// object is parked as ATTEMPTS_LOST, every other object (those killed beside it too) loads, and the
// run ends failed naming it. `etl objects retry` then loads it exactly once.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createActivities } from '../../activities';
import { lakeSync } from '../../client/commands/lake';
import { produceTransactions } from '../../activities/ingest/produce';
import { settle, type RunOutcome } from '../../client/commands/run-outcome';
import { PROJECT_ROOT } from '../../lib/config';
import { OBJECT_LOCK_KEY } from '../../lib/postgres';
import { connectClient } from '../../lib/temporal';
import type { PipelineResult } from '../../workflows';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';
import { configEnv } from '../support/isolation';
import { freePort } from '../support/ports';
import { activityEnv, runActivity as run } from '../support/activity-env';

const ROWS = 3_000;
const PER_OBJECT = 500;
const MAX_ATTEMPTS = 2;
const gen = { seed: 18, startMs: Date.parse('2026-11-02T00:00:00Z'), windowMs: 3_600_000 };

describe('attempts that die with their worker are bounded', () => {
  let env: TestEnv;
  let victim: { id: number; records: number };
  let lock: pg.PoolClient | undefined;
  let outcome: RunOutcome<PipelineResult>;
  let lockPid: number;

  // Loads of the victim waiting on the test's lock: one more each time an attempt reaches it (the
  // sessions of killed workers wait on until they get the lock and find their client gone).
  const waitingOnLock = async (): Promise<number> =>
    (
      await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [
        lockPid,
      ])
    ).rows[0]!.n;
  const until = async (what: string, ok: () => Promise<boolean>, ms = 120_000) => {
    for (const deadline = Date.now() + ms; !(await ok());) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const spawnWorker = (): { child: ChildProcess; exited: Promise<void>; stderr: () => string } => {
    const child = spawn(path.join(PROJECT_ROOT, 'bin', 'etl'), ['worker'], {
      env: { ...process.env, ...configEnv(env.config), LOG_LEVEL: 'error' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    return { child, exited: new Promise((resolve) => child.on('exit', () => resolve())), stderr: () => stderr };
  };

  before(async () => {
    env = await isolatedEnv('lost', { UNKNOWN_ERROR_MAX_ATTEMPTS: MAX_ATTEMPTS, ARCHIVE_MAX_RECORDS_PER_OBJECT: PER_OBJECT });
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, topic: env.topic(), rows: ROWS });
    // Archived first, so that the victim is known before any load starts.
    await activityEnv().run(createActivities(env).archive, { stream: 'transactions' });
    const { rows } = await env.pool.query<{ id: number; records: number }>(
      "SELECT id::int, record_count AS records FROM bronze_objects WHERE stream = 'transactions' ORDER BY id LIMIT 1",
    );
    victim = rows[0]!;
    // Every load of the victim waits on this lock, inside its attempt: where the kills land.
    lock = await env.pool.connect();
    await lock.query(`SELECT pg_advisory_lock(${OBJECT_LOCK_KEY})`, [`etl.load.${victim.id}`]);
    lockPid = (await lock.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

    const client = await connectClient(env.config);
    const workflowId = `lost-${env.id}`;
    try {
      await client.workflow.start('pipelineWorkflow', {
        taskQueue: env.config.TEMPORAL_TASK_QUEUE,
        workflowId,
        args: [{ stream: 'transactions', objectConcurrency: 2 }],
      });
      for (let kill = 1; kill <= MAX_ATTEMPTS; kill++) {
        const worker = spawnWorker();
        try {
          await until(`attempt ${kill} at object ${victim.id}`, async () => (await waitingOnLock()) >= kill);
        } finally {
          worker.child.kill('SIGKILL');
          await worker.exited;
        }
      }
    } finally {
      await client.connection.close();
    }
    outcome = await withWorker(env, (c) => settle(c.workflow.getHandle(workflowId).result() as Promise<PipelineResult>));
    lock.release();
    lock = undefined;
  });
  after(async () => {
    lock?.release();
    await env?.cleanup();
  });

  it('parks the object as ATTEMPTS_LOST once its attempts were lost UNKNOWN_ERROR_MAX_ATTEMPTS times, without a further attempt', async () => {
    const {
      rows: [o],
    } = await env.pool.query(
      'SELECT parked_at IS NOT NULL AS parked, loaded_at IS NOT NULL AS loaded, failure_code, failure_step, failure_message FROM bronze_objects WHERE id = $1',
      [victim.id],
    );
    assert.deepEqual([o.parked, o.loaded, o.failure_code, o.failure_step], [true, false, 'ATTEMPTS_LOST', 'transform-load']);
    assert.match(o.failure_message, new RegExp(`: ${MAX_ATTEMPTS} of its attempts ended without an outcome`));
  });

  it('loads every other object, and the run ends failed naming the parked one', async () => {
    const { rows } = await env.pool.query<{ flat: number; distinct: number; unloaded: number }>(
      `SELECT (SELECT count(*)::int FROM transactions_flat) AS flat, (SELECT count(DISTINCT transaction_id)::int FROM transactions_flat) AS distinct,
              (SELECT count(*)::int FROM bronze_objects WHERE loaded_at IS NULL) AS unloaded`,
    );
    assert.deepEqual(rows[0], { flat: ROWS - victim.records, distinct: ROWS - victim.records, unloaded: 1 });
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    assert.equal(outcome.failure.code, 'OBJECT_PARKED');
    assert.match(outcome.failure.message, new RegExp(`#${victim.id} \\(ATTEMPTS_LOST at transform-load`));
  });

  it('`etl objects retry` starts its attempts afresh and loads the object exactly once', async () => {
    const r = await withWorker(
      env,
      () =>
        new Promise<{ code: number; stderr: string }>((resolve) =>
          execFile(
            path.join(PROJECT_ROOT, 'bin', 'etl'),
            ['objects', 'retry', String(victim.id)],
            { encoding: 'utf8', env: { ...process.env, ...configEnv(env.config) } },
            (err, _stdout, stderr) => resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stderr }),
          ),
        ),
    );
    assert.equal(r.code, 0, r.stderr);
    const { rows } = await env.pool.query<{ flat: number; distinct: number }>(
      `SELECT (SELECT count(*)::int FROM transactions_flat) AS flat, (SELECT count(DISTINCT transaction_id)::int FROM transactions_flat) AS distinct`,
    );
    assert.deepEqual(rows[0], { flat: ROWS, distinct: ROWS });
  });
});

// The other units under the same bound, driven activity by activity: their attempts are lost as the
// unit test (test/unit/activities/attempts.test.ts) loses them, by the attempt number Temporal gives
// with no heartbeat from the attempts before. What is proven here is where each unit notes the refusal.
describe('the attempt bound for a lake write and a file read', () => {
  let env: TestEnv;
  let dir: string;
  /** An attempt after MAX_ATTEMPTS that all died before their first heartbeat. */
  const afterLost = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A) =>
    activityEnv({ attempt: MAX_ATTEMPTS + 1 }).run(fn, ...args) as Promise<R>;
  const refusedAsLost = (err: Error & { type?: string; nonRetryable?: boolean }) => {
    assert.equal(err.type, 'ATTEMPTS_LOST');
    assert.equal(err.nonRetryable, true);
    return true;
  };

  before(async () => {
    env = await isolatedEnv('lost_units', { UNKNOWN_ERROR_MAX_ATTEMPTS: MAX_ATTEMPTS });
    dir = await mkdtemp(path.join(tmpdir(), 'etl-lost-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await env?.cleanup();
  });

  it('a lake write: refused and noted on the object; `etl lake sync` writes it', async () => {
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, topic: env.topic(), rows: 200 });
    const acts = createActivities(env);
    await run(acts.archive, { stream: 'transactions' });
    const { rows } = await env.pool.query<{ id: number }>(
      "SELECT id::int FROM bronze_objects WHERE stream = 'transactions' ORDER BY id LIMIT 1",
    );
    const id = rows[0]!.id;
    await run(acts.transformAndLoad, { stream: 'transactions', bronzeObjectId: id });
    await assert.rejects(afterLost(acts.writeLake, { stream: 'transactions', bronzeObjectId: id }), refusedAsLost);
    const { rows: lake } = await env.pool.query('SELECT failure_code, rows_version FROM lake_objects WHERE bronze_object_id = $1', [id]);
    assert.deepEqual(lake[0], { failure_code: 'ATTEMPTS_LOST', rows_version: 0 });
    const sync = await lakeSync(env, 'transactions');
    assert.equal(sync.objectsWritten, 1);
    const { rows: after } = await env.pool.query<{ behind: number }>(
      `SELECT count(*)::int AS behind FROM lake_objects l JOIN bronze_objects b ON b.id = l.bronze_object_id WHERE l.rows_version < b.rows_version`,
    );
    assert.deepEqual(after[0], { behind: 0 });
  });

  it('an attempt that failed because PostgreSQL was unreachable ended with an outcome: the next one does not count it lost', async () => {
    const url = `postgres://etl@127.0.0.1:${await freePort()}/etl`;
    const dead = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      const down = createActivities({ ...env, pool: dead, config: { ...env.config, DATABASE_URL: url } });
      let last: unknown;
      for (let n = 1; n <= MAX_ATTEMPTS + 1; n++) {
        const attempt = activityEnv({ attempt: n, heartbeatDetails: last });
        attempt.on('heartbeat', (d: unknown) => (last = d));
        await assert.rejects(
          attempt.run(down.transformAndLoad, { stream: 'transactions', bronzeObjectId: 5 }),
          (err: Error & { type?: string }) => {
            assert.equal(err.type, 'POSTGRES_UNREACHABLE');
            return true;
          },
        );
      }
      assert.deepEqual((last as { tally: unknown }).tally, { attempt: MAX_ATTEMPTS + 1, lost: 0, unknown: 0, ended: true });
      const missing = 987_654_321;
      const next = activityEnv({ attempt: MAX_ATTEMPTS + 2, heartbeatDetails: last });
      await assert.rejects(
        next.run(createActivities(env).transformAndLoad, { stream: 'transactions', bronzeObjectId: missing }),
        (err: Error & { type?: string }) => {
          assert.equal(err.type, 'MANIFEST_INVALID', 'tried (no such object), not refused');
          return true;
        },
      );
    } finally {
      await dead.end();
    }
  });

  it('a file read: refused, and the version marked failed after the lines its archived objects hold', async () => {
    await writeFile(path.join(dir, 'a.jsonl'), '{"not":"read"}\n');
    const acts = createActivities(env);
    const found = await run(acts.discoverSource, { source: 'files', stream: 'transactions', location: dir });
    assert.equal(found.new, 1);
    const [unit] = await run(acts.listSourceUnits, { source: 'files', stream: 'transactions', limit: 10, afterId: 0 });
    await assert.rejects(afterLost(acts.readSourceUnit, { source: 'files', stream: 'transactions', unitId: unit!.unitId }), refusedAsLost);
    const { rows } = await env.pool.query('SELECT status, error_code, lines_read, record_count FROM source_files WHERE id = $1', [
      unit!.unitId,
    ]);
    assert.deepEqual(rows[0], { status: 'failed', error_code: 'ATTEMPTS_LOST', lines_read: '0', record_count: '0' });
    const { rows: objects } = await env.pool.query("SELECT count(*)::int AS n FROM bronze_objects WHERE source_kind = 'file'");
    assert.equal(objects[0]!.n, 0, 'the refused attempt read nothing');
  });
});
