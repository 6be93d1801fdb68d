// Continuous mode against the real servers: a row reaches Postgres within seconds of produce, the
// stream survives its worker being SIGKILLed, a scheduled pipeline run beside it neither loses nor
// doubles a record, continue-as-new carries its totals, and a stop signal ends it cleanly with every
// record loaded exactly once. Its follower stays one member of the consumer group across flushes.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { createActivities, type QualityResult } from '../../activities';
import { startStream, stopStream, streamReport, streamWorkflowId, type StreamReport } from '../../client/commands/stream';
import { archiveGroup } from '../../lib/kafka';
import { PROJECT_ROOT } from '../../lib/config';
import { produceTransactions } from '../../activities/ingest/produce';
import { connectClient } from '../../lib/temporal';
import type { PipelineResult, StreamResult } from '../../workflows';
import { isolatedEnv, type TestEnv } from '../support/harness';
import { activityEnv } from '../support/activity-env';

const gen = { seed: 31, startMs: Date.now() - 86_400_000, windowMs: 86_400_000 };
const FLUSH_MS = 1_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('continuous mode (etl stream)', () => {
  let env: TestEnv;
  let client: Client;
  let worker: ChildProcess | undefined;

  function childEnv(): NodeJS.ProcessEnv {
    const c = env.config;
    return {
      ...process.env,
      PG_SCHEMA: c.PG_SCHEMA,
      KAFKA_TOPIC_PREFIX: c.KAFKA_TOPIC_PREFIX,
      KAFKA_CLIENT_ID: c.KAFKA_CLIENT_ID,
      S3_PREFIX: c.S3_PREFIX,
      TEMPORAL_TASK_QUEUE: c.TEMPORAL_TASK_QUEUE,
      ARCHIVE_MAX_RECORDS_PER_OBJECT: String(c.ARCHIVE_MAX_RECORDS_PER_OBJECT),
      LOG_LEVEL: 'info',
    };
  }

  function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync(path.join(PROJECT_ROOT, 'bin', 'etl'), args, {
      cwd: PROJECT_ROOT,
      env: childEnv(),
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  let workerLog = '';
  const notable = (log: string) =>
    log
      .split('\n')
      .filter((l) => !l.includes('"level":30') && !l.includes('"level":20'))
      .join('\n')
      .slice(-6_000);

  /** `etl worker` as a separate process, so that it can be SIGKILLed like a crashed host. */
  async function startWorker(): Promise<ChildProcess> {
    // node directly (not bin/etl, whose tsx wrapper would survive as a parent): SIGKILL hits the worker.
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'client', 'main.ts'), 'worker'], {
      cwd: PROJECT_ROOT,
      env: childEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-20_000);
      workerLog = (workerLog + d.toString()).slice(-20_000);
    });
    for (let i = 0; i < 1200 && !stderr.includes('worker started') && child.exitCode === null; i++) await sleep(100);
    assert.match(stderr, /worker started/, stderr);
    return child;
  }

  async function flatCount(): Promise<number> {
    const { rows } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM transactions_flat');
    return rows[0]!.n;
  }

  /**
   * Polls until `n` rows are in transactions_flat; returns ms until the first new row and until all.
   * A stall is the test's timeout, after which afterEach prints what the workers said.
   */
  async function waitForRows(n: number, since: number, had: number): Promise<{ firstMs: number; allMs: number }> {
    let firstMs = -1;
    for (;;) {
      const count = await flatCount();
      const elapsed = Date.now() - since;
      if (count > had && firstMs < 0) firstMs = elapsed;
      if (count >= n) return { firstMs, allMs: elapsed };
      await sleep(100);
    }
  }

  // The workers' own account (warnings and errors) is what explains a stall or a failure.
  afterEach((t) => {
    if ('passed' in t && !t.passed) console.error(`${t.name}: ${notable(workerLog)}`);
  });

  before(async () => {
    env = await isolatedEnv('stream', { ARCHIVE_MAX_RECORDS_PER_OBJECT: 400 });
    client = await connectClient(env.config);
  });

  after(async () => {
    await client?.workflow
      .getHandle(streamWorkflowId(env.config, 'transactions'))
      .terminate('test cleanup')
      .catch(() => undefined);
    await client?.connection.close();
    worker?.kill('SIGKILL');
    await env?.cleanup();
  });

  it('loads as records arrive, survives a worker SIGKILL, coexists with a pipeline run, stops cleanly', { timeout: 240_000 }, async () => {
    worker = await startWorker();
    // A short run length makes continue-as-new happen several times during the test.
    const started = await startStream(client, env.config, {
      stream: 'transactions',
      flushIntervalMs: FLUSH_MS,
      iterationsPerRun: 2,
      pollWaitMs: 2_000,
    });
    assert.equal(started.started, true);
    const again = await startStream(client, env.config, { stream: 'transactions', flushIntervalMs: FLUSH_MS });
    assert.equal(again.started, false, 'a second start finds the one already running');

    // 1. Produce into a running stream: its rows appear.
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, topic: env.topic(), rows: 1_000 });
    const t1 = await waitForRows(1_000, Date.now(), 0);
    console.log(`continuous mode: first row ${t1.firstMs} ms, all 1,000 rows ${t1.allMs} ms after produce (flush interval ${FLUSH_MS} ms)`);

    // 2. Kill the worker like a crashed host, produce while none runs, then start a new one.
    worker.kill('SIGKILL');
    await new Promise((r) => worker!.once('exit', r));
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, topic: env.topic(), rows: 2_000, startIndex: 1_000 });
    const restartAt = Date.now();
    worker = await startWorker();
    const t2 = await waitForRows(2_000, restartAt, 1_000);
    console.log(`after a worker SIGKILL: first row ${t2.firstMs} ms, all 2,000 rows ${t2.allMs} ms after the new worker started`);

    // 3. A scheduled-style pipeline run beside the stream: they share the archive lock and manifest.
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, topic: env.topic(), rows: 3_000, startIndex: 2_000 });
    const run = (await client.workflow.execute('pipelineWorkflow', {
      taskQueue: env.config.TEMPORAL_TASK_QUEUE,
      workflowId: `pipeline-beside-stream-${env.id}`,
      args: [{ stream: 'transactions' }],
    })) as PipelineResult;
    await waitForRows(3_000, Date.now(), 2_000);
    assert.equal(run.quality.passed, true, JSON.stringify(run.quality.checks.filter((c) => !c.passed)));

    // Continue-as-new (after 2 loader passes here) has started a fresh run, with a follower of its own.
    for (let i = 0; i < 600 && ((await streamReport(client, env.config, 'transactions')).detail?.runs ?? 0) < 2; i++) await sleep(100);

    // 4. The CLI as users run it: status while it runs, then stop (signal, wait for completion).
    const status = cli(['stream', 'status', 'transactions', '--json']);
    assert.equal(status.code, 0, status.stderr);
    const live = JSON.parse(status.stdout) as StreamReport;
    assert.equal(live.running, true);
    assert.ok(live.detail && live.detail.iterations > 0 && live.detail.lastFlushAt, status.stdout);
    const stop = cli(['stream', 'stop', 'transactions', '--timeout', '60s']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /^stopped stream transactions: .* rows loaded/);
    console.log(stop.stdout.trim());
    const result = (await client.workflow.getHandle(streamWorkflowId(env.config, 'transactions')).result()) as StreamResult;
    assert.equal(result.quality.passed, true, JSON.stringify(result.quality.checks.filter((c) => !c.passed)));
    const report = await streamReport(client, env.config, 'transactions');
    assert.equal(report.status, 'COMPLETED');
    assert.equal(report.running, false);
    assert.ok(result.runs > 1, `continued as new (${result.runs} runs) with its totals carried`);
    assert.ok(result.recordsArchived > 0 && result.rowsInserted > 0, JSON.stringify(result));
    console.log(
      `stream totals: ${result.runs} runs, ${result.iterations} iterations, ${result.recordsArchived} records archived; the pipeline run beside it archived ${run.recordsArchived}`,
    );

    // Stream and pipeline together: every offset in exactly one object, every record loaded once.
    // (The manifest is the truth; workflow totals are what each run saw, see docs/continuous-mode.md.)
    const { rows } = await env.pool.query<{
      flat: number;
      raw: number;
      ids: number;
      pending: number;
      archived: number;
      inserted: number;
      loads: number;
      objects: number;
    }>(
      `SELECT (SELECT count(*)::int FROM transactions_flat) AS flat, (SELECT count(*)::int FROM raw_transactions) AS raw,
              (SELECT count(DISTINCT transaction_id)::int FROM transactions_flat) AS ids,
              (SELECT count(*)::int FROM bronze_objects WHERE status <> 'archived' OR loaded_at IS NULL) AS pending,
              (SELECT sum(record_count)::int FROM bronze_objects) AS archived,
              (SELECT sum(inserted_count)::int FROM loads) AS inserted,
              (SELECT count(*)::int FROM loads) AS loads, (SELECT count(*)::int FROM bronze_objects) AS objects`,
    );
    const objects = rows[0]!.objects;
    assert.deepEqual(rows[0], {
      flat: 3_000,
      raw: 3_000,
      ids: 3_000,
      pending: 0,
      archived: 3_000,
      inserted: 3_000,
      loads: objects,
      objects,
    });
    const quality = (await activityEnv().run(createActivities(env).quality, {
      stream: 'transactions',
      runId: `stream-test-${env.id}`,
    })) as QualityResult;
    assert.equal(quality.passed, true, JSON.stringify(quality.checks.filter((q) => !q.passed)));
  });

  it('keeps one consumer in its group across flushes (no rejoin per flush)', { timeout: 180_000 }, async () => {
    if (!worker || worker.exitCode !== null) worker = await startWorker();
    const had = await flatCount();
    const offsetBase = 10_000; // distinct events from the first test's
    const started = await startStream(client, env.config, { stream: 'transactions', flushIntervalMs: 500, iterationsPerRun: 1_000 });
    assert.equal(started.started, true);
    const admin = env.kafka.admin();
    await admin.connect();
    try {
      const group = archiveGroup(env.config, env.topic());
      const members = async () => {
        const {
          groups: [g],
        } = await admin.describeGroups([group]);
        return { state: g!.state, ids: g!.members.map((m) => m.memberId) };
      };
      let first = await members();
      for (let i = 0; i < 300 && !(first.state === 'Stable' && first.ids.length === 1); i++) {
        await sleep(100);
        first = await members();
      }
      assert.deepEqual([first.state, first.ids.length], ['Stable', 1], JSON.stringify(first));

      // Several bursts, each flushed (by time) and loaded before the next: the member never changes.
      const BURSTS = 4;
      for (let b = 0; b < BURSTS; b++) {
        await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, {
          ...gen,
          topic: env.topic(),
          rows: offsetBase + (b + 1) * 60,
          startIndex: offsetBase + b * 60,
        });
        await waitForRows(had + (b + 1) * 60, Date.now(), had + b * 60);
        assert.deepEqual(await members(), first, `after flush ${b + 1} the group still holds the same single member`);
      }

      // The follower's own count, from its heartbeat (what `etl stream status` shows): one join.
      let live: StreamReport | undefined;
      for (let i = 0; i < 300; i++) {
        live = await streamReport(client, env.config, 'transactions');
        if ((live.follower?.cursor?.objectsArchived ?? 0) >= BURSTS) break;
        await sleep(100);
      }
      const cursor = live?.follower?.cursor;
      assert.ok(cursor && cursor.objectsArchived >= BURSTS, JSON.stringify(live?.follower));
      assert.equal(cursor.groupJoins, 1, 'joined once for all those flushes');
      const text = cli(['stream', 'status', 'transactions']);
      assert.match(text.stdout, /^follower +attempt 1, joined the consumer group 1 time\(s\)/m, text.stdout);

      const stop = await stopStream(client, env.config, 'transactions', 60_000);
      assert.equal(stop.state, 'stopped');
      if (stop.state !== 'stopped') return;
      assert.deepEqual([stop.result.runs, stop.result.groupJoins], [1, 1], JSON.stringify(stop.result));
      assert.ok(stop.result.objectsArchived >= BURSTS, JSON.stringify(stop.result));
      assert.equal(stop.result.recordsArchived, BURSTS * 60);
      assert.equal(stop.result.quality.passed, true, JSON.stringify(stop.result.quality.checks.filter((c) => !c.passed)));
    } finally {
      await admin.disconnect();
    }
  });
});
