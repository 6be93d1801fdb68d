// The search sink against the real OpenSearch node of the local stack (`etl stack up --with
// opensearch`), behind a TCP proxy the test can take down: after a pipeline run the index holds
// exactly the flat table's rows (those it refused are recorded with the reason, none is lost);
// with the node down a run still completes, `etl search status` shows the lag, and the lane
// catches up once the node is back; a replay with changed rules re-indexes what it changed; and
// `etl quarantine replay` kicks the running lane (or says in one line why it could not).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Client as TemporalClient } from '@temporalio/client';
import type { Client } from '@opensearch-project/opensearch';
import { replayBronzeObject } from '../../activities/replay/replay';
import { searchSyncWorkflowId } from '../../activities/search/search-sync';
import { produceTransactions } from '../../activities/ingest/produce';
import { lakeSummary } from '../../client/commands/lake';
import { PROJECT_ROOT } from '../../lib/config';
import { aliasName, createSearchClient, monthIndexName, searchMappings } from '../../lib/search';
import { listRejections, searchLag } from '../../lib/search-state';
import { transactionsStream } from '../../streams/transactions';
import { syntheticTransaction } from '../../streams/transactions/generator';
import { dropTestIndexes, endSearchLane } from '../support/search';
import { changedTransactionRules } from '../support/rule-changes';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';
import { configEnv } from '../support/isolation';
import { freePort } from '../support/ports';
import { TcpProxy } from '../support/tcp-proxy';
import type { PipelineResult } from '../../workflows';
import { activityEnv } from '../support/activity-env';

const DAY = 86_400_000;
// Whole days, so the window spans month boundaries and the sink writes several month indexes.
const NOW = Math.floor(Date.now() / DAY) * DAY;
const gen = { seed: 23, startMs: NOW - 70 * DAY, windowMs: 70 * DAY };
const ROWS = 2_000;
const MORE = 400;
const UTC_MONTH = (ms: number) => new Date(ms).toISOString().slice(0, 7).replace('-', '.');

/** The rule change of the replay: the weekday is derived upper-case. */
const changed = changedTransactionRules({ upperCaseWeekday: true });

interface FlatRow {
  id: string;
  amount: string;
  event_ts: Date;
  event_dayofweek: string;
  user_id: string;
  merchant: string;
  category: string;
  bronze_object_id: string;
  kafka_offset: string;
}

describe('search sink (real OpenSearch node)', () => {
  let env: TestEnv;
  let proxy: TcpProxy;
  let search: Client;
  let alias: string;
  const oldestMonth = UTC_MONTH(gen.startMs);

  const flatRows = async () =>
    (
      await env.pool.query<FlatRow>(
        `SELECT transaction_id::text AS id, amount::text, event_ts, event_dayofweek, user_id::text, merchant, category,
                bronze_object_id::text, kafka_offset::text FROM transactions_flat ORDER BY transaction_id`,
      )
    ).rows;

  const indexedDocs = async () => {
    await search.indices.refresh({ index: alias });
    const res = await search.search({ index: alias, body: { size: 10_000, query: { match_all: {} }, sort: [{ transaction_id: 'asc' }] } });
    const hits = (res.body as { hits: { hits: { _id: string; _index: string; _source: Record<string, unknown> }[] } }).hits.hits;
    return new Map(hits.map((h) => [h._id, h]));
  };

  const waitForNoLag = async (ms = 120_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const lag = await searchLag(env.pool, 'transactions', 'transactions_flat');
      if (lag.rowsBehind === 0 && lag.objectsBehind === 0) return lag;
      if (Date.now() > deadline) throw new Error(`search lag did not reach 0: ${JSON.stringify(lag)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  /** Every flat row is in the index with its values, or refused with a reason; nothing else is there. */
  const assertIndexEqualsFlat = async (weekday: (r: FlatRow) => string = (r) => r.event_dayofweek) => {
    const rows = await flatRows();
    const docs = await indexedDocs();
    const rejected = new Map((await listRejections(env.pool, 'transactions', 10_000)).map((r) => [r.docId, r]));
    assert.ok(rows.length > 0);
    assert.equal(docs.size + rejected.size, rows.length, 'every flat row is indexed or recorded as refused');
    for (const r of rows) {
      const doc = docs.get(r.id);
      if (!doc) {
        assert.ok(rejected.has(r.id), `row ${r.id} is neither indexed nor recorded as refused`);
        continue;
      }
      assert.ok(!rejected.has(r.id), `row ${r.id} is indexed and recorded as refused`);
      const s = doc._source;
      assert.equal(doc._index, monthIndexName(env.config, 'transactions', UTC_MONTH(r.event_ts.getTime())));
      assert.equal(s.amount, r.amount, 'the exact decimal text');
      assert.equal(Date.parse(String(s.event_ts)), r.event_ts.getTime());
      assert.equal(s.event_dayofweek, weekday(r));
      assert.equal(String(s.user_id), r.user_id);
      assert.equal(s.merchant, r.merchant);
      assert.equal(s.category, r.category);
      assert.equal(String(s.bronze_object_id), r.bronze_object_id);
      assert.equal(String(s.kafka_offset), r.kafka_offset);
    }
    return { rows: rows.length, indexed: docs.size, rejected: rejected.size };
  };

  const runPipeline = (client: TemporalClient, n: number) =>
    client.workflow.execute('pipelineWorkflow', {
      taskQueue: env.config.TEMPORAL_TASK_QUEUE,
      workflowId: `pipeline-search-${env.id}-${n}`,
      args: [{ stream: 'transactions', objectConcurrency: 2 }],
    }) as Promise<PipelineResult>;

  const etlWith = (extraEnv: Record<string, string>, ...args: string[]) =>
    promisify(execFile)(path.join(PROJECT_ROOT, 'bin', 'etl'), args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...configEnv(env.config), ...extraEnv },
    });
  const etl = async (...args: string[]) => (await etlWith({}, ...args)).stdout;

  /** A record the rules of its time refused, valid under today's: what `etl quarantine replay` loads. */
  const quarantineFixable = async (n: number, bronzeObjectId: number) => {
    const record = syntheticTransaction(7_000_000 + n, gen);
    await env.pool.query(
      `INSERT INTO quarantine (stream, kafka_topic, kafka_partition, kafka_offset, bronze_object_id, reason_code, reason, payload, payload_encoding)
       VALUES ('transactions', $1, 0, $2, $3, 'UNKNOWN_VALUE', 'refused by a rule since fixed', $4, 'utf8')`,
      [env.topic(), 7_000_000 + n, bronzeObjectId, JSON.stringify(record)],
    );
  };
  const searchKicks = async (lane: ReturnType<TemporalClient['workflow']['getHandle']>) =>
    ((await lane.fetchHistory()).events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'searchKick')
      .length;

  before(async () => {
    const base = new URL(process.env.OPENSEARCH_URL ?? 'http://127.0.0.1:9200');
    proxy = await TcpProxy.onFreePort({ host: base.hostname, port: Number(base.port || 9200) });
    await proxy.up();
    env = await isolatedEnv('search', {
      SEARCH_SINK: true,
      OPENSEARCH_URL: `http://127.0.0.1:${proxy.port}`,
      ARCHIVE_MAX_RECORDS_PER_OBJECT: 500,
    });
    search = createSearchClient(env.config);
    alias = aliasName(env.config, 'transactions');
    // A mapping conflict the sink must record, not drop: the oldest month's index exists already,
    // made by someone with user_id as a short, which cannot hold user ids above 32767.
    const conflicting = searchMappings({ ...transactionsStream.search!.fields, user_id: 'short' });
    await search.indices.create({
      index: monthIndexName(env.config, 'transactions', oldestMonth),
      body: { mappings: conflicting as never },
    });
  });

  after(async () => {
    await endSearchLane(env);
    await dropTestIndexes(env, search);
    await search?.close();
    await proxy?.down();
    await env?.cleanup();
  });

  it('indexes every loaded row once, refuses and records conflicting ones, survives an outage, follows a replay', async () => {
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, topic: env.topic(), rows: ROWS });
    await withWorker(env, async (client) => {
      // 1. A run: the pipeline starts the lane; the index catches up with the flat table.
      const first = await runPipeline(client, 1);
      assert.equal(first.rowsInserted, ROWS);
      await waitForNoLag();
      const counts = await assertIndexEqualsFlat();
      assert.equal(counts.rows, ROWS);
      const rejected = await listRejections(env.pool, 'transactions', 10_000);
      assert.ok(
        rejected.length > 0 && counts.indexed > rejected.length,
        `some, not all, refused: ${counts.indexed} indexed, ${rejected.length} refused`,
      );
      for (const r of rejected) {
        assert.equal(r.httpStatus, 400);
        assert.equal(r.errorType, 'mapper_parsing_exception');
        assert.match(r.reason, /user_id/);
      }
      const months = new Set([...(await indexedDocs()).values()].map((d) => d._index));
      assert.ok(months.size >= 2, `one index per month: ${[...months].join(', ')}`);
      const cli = JSON.parse(await etl('search', 'status', '--json')) as {
        streams: { stream: string; rowsBehind: number; docsRejected: number }[];
      };
      assert.deepEqual(
        cli.streams.filter((s) => s.stream === 'transactions').map((s) => [s.rowsBehind, s.docsRejected]),
        [[0, rejected.length]],
      );
      assert.match(await etl('search', 'rejected', '--stream', 'transactions'), /mapper_parsing_exception/);

      // 2. The node goes away: the next run still completes; the lag is the rows it loaded.
      await proxy.down();
      await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, seed: 24, topic: env.topic(), rows: MORE });
      const second = await runPipeline(client, 2);
      assert.equal(second.rowsInserted, MORE);
      const lag = await searchLag(env.pool, 'transactions', 'transactions_flat');
      assert.equal(lag.rowsBehind, MORE);
      const status = JSON.parse(await etl('status', '--json')) as { stream: string; search: { rowsBehind: number } | null }[];
      assert.equal(status.find((s) => s.stream === 'transactions')?.search?.rowsBehind, MORE);
      // The lane's activity retries with backoff, its cause visible in the Web UI.
      const lane = client.workflow.getHandle(searchSyncWorkflowId(env.config, 'transactions'));
      const deadline = Date.now() + 30_000;
      let failure = '';
      while (Date.now() < deadline && !failure.includes('SEARCH_UNREACHABLE')) {
        await lane.signal('searchKick');
        const pending = (await lane.describe()).raw.pendingActivities ?? [];
        failure = pending.map((p) => `${p.lastFailure?.applicationFailureInfo?.type ?? ''} ${p.lastFailure?.message ?? ''}`).join(' ');
        if (!failure.includes('SEARCH_UNREACHABLE')) await new Promise((r) => setTimeout(r, 1000));
      }
      assert.match(failure, /SEARCH_UNREACHABLE/);

      // 3. The node is back: the lane catches up by itself.
      await proxy.up();
      await waitForNoLag();
      assert.equal((await assertIndexEqualsFlat()).rows, ROWS + MORE);

      // 4. A replay with changed rules re-derives every row (rows_version bumped): re-indexed.
      const { rows: objects } = await env.pool.query<{ id: number }>('SELECT id::int FROM bronze_objects ORDER BY id');
      for (const { id } of objects) {
        await activityEnv().run(replayBronzeObject, env, changed, {
          stream: 'transactions',
          bronzeObjectId: id,
          workflowId: `test-${env.id}`,
          runKey: 'upper',
        });
      }
      assert.ok((await searchLag(env.pool, 'transactions', 'transactions_flat')).rowsBehind > 0, 'the replay put the index behind');
      // Kicked from the CLI, as an operator would after a quarantine replay.
      assert.match(await etl('search', 'sync', 'transactions'), /search lane search-sync-transactions@\S+ kicked/);
      await waitForNoLag();
      const afterReplay = await assertIndexEqualsFlat((r) => r.event_dayofweek);
      assert.equal(afterReplay.rows, ROWS + MORE);
      const docs = await indexedDocs();
      assert.ok(
        [...docs.values()].every((d) => /^[A-Z]+$/.test(String(d._source.event_dayofweek))),
        'documents carry the re-derived weekday',
      );

      // 5. `etl quarantine replay` loads a record of the first object: it kicks the running lane (a
      //    signal in its history, not the 10 s poll) and rewrites the lake of that object only (the
      //    replay of step 4, run activity by activity, left every object's lake behind).
      const behindBefore = (await lakeSummary(env.pool, ['transactions']))[0]!.objectsBehind;
      assert.equal(behindBefore, objects.length, 'the replay put the lake behind every object');
      await quarantineFixable(1, objects[0]!.id);
      const kicksBefore = await searchKicks(lane);
      const replayed = JSON.parse(await etl('quarantine', 'replay', '--json')) as {
        loaded: number;
        objectIds: number[];
        lake: { objectsWritten: number; objectsFailed: number };
        search: { kicked: boolean; note: string };
      };
      assert.deepEqual([replayed.loaded, replayed.objectIds], [1, [objects[0]!.id]]);
      assert.deepEqual([replayed.lake.objectsWritten, replayed.lake.objectsFailed], [1, 0], 'the lake of the object it changed');
      assert.equal((await lakeSummary(env.pool, ['transactions']))[0]!.objectsBehind, objects.length - 1, 'and of no other');
      assert.equal(replayed.search.kicked, true, replayed.search.note);
      assert.equal(await searchKicks(lane), kicksBefore + 1, 'the lane got the kick');
      await waitForNoLag();
      assert.equal((await assertIndexEqualsFlat()).rows, ROWS + MORE + 1);

      // 6. Temporal out of reach: the replay and its lake write stand, one line says the lane was not told.
      await quarantineFixable(2, objects[1]!.id);
      const closedPort = await freePort();
      const unreachable = await etlWith({ TEMPORAL_ADDRESS: `127.0.0.1:${closedPort}` }, 'quarantine', 'replay');
      assert.match(unreachable.stdout, /^examined 1: 1 loaded/m);
      assert.match(unreachable.stdout, /^lake: 1 object\(s\) rewritten$/m);
      assert.match(
        unreachable.stdout,
        new RegExp(
          `^search: search lane not kicked: cannot reach Temporal at 127\\.0\\.0\\.1:${closedPort} — start it with .*; it catches up at its next poll once it runs$`,
          'm',
        ),
      );
      assert.equal(unreachable.stderr, '', 'no stack, no log noise');
      await waitForNoLag(); // the lane's own poll
      await lane.terminate('test done');

      // 7. No lane runs: the replay says how to start one.
      await quarantineFixable(3, objects[0]!.id);
      assert.match(
        await etl('quarantine', 'replay'),
        /^search: no search lane runs for transactions: the next run starts it, or `etl search sync transactions`$/m,
      );
    });
  });
});
