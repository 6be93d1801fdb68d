// Replay from bronze: with unchanged rules it changes no row; after a rule change it loads what the
// old rules quarantined, re-derives loaded rows, never loads a record twice or drops one, and the
// quality invariants keep holding. Driven through the workflow, the activity logic and the CLI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { createActivities, type QualityResult } from '../../activities';
import type { ReplayObjectResult, WindowPage } from '../../activities/replay/replay';
import { emptyReplayCounts, type ReplayCounts } from '../../shared/replay-counts';
import { PROJECT_ROOT } from '../../lib/config';
import { produceTransactions } from '../../activities/ingest/produce';
import { syntheticTransaction } from '../../streams/transactions/generator';
import type { StreamSpec } from '../../streams/types';
import type { ReplayResult } from '../../workflows';
import { changedTransactionRules } from '../support/rule-changes';
import { replayEach } from '../support/replay-each';
import { isolatedEnv, runPipeline, withWorker, type TestEnv } from '../support/harness';
import { activityEnv } from '../support/activity-env';

const ROWS = 3_000;
const gen = { seed: 11, startMs: Date.now() - 6 * 3_600_000, windowMs: 6 * 3_600_000 };
const everything = { fromMs: gen.startMs - 86_400_000, toMs: Date.now() + 86_400_000 };
const DAY = 86_400_000;

const event = (i: number, patch: Record<string, unknown> = {}) => ({ ...syntheticTransaction(1_000_000 + i, gen), ...patch });
const petsA = event(1, { category: 'pets' });
const petsB = event(2, { category: 'pets' });
const x = event(3);
// Sent after the generated events: two pets (one twice), a duplicate and a conflicting duplicate.
const extra = [petsA, petsB, petsB, x, x, { ...x, amount: 999.99 }];

/** The rule change: "pets" becomes a known category, and the weekday is derived upper-case. */
const changed = changedTransactionRules({ petsAreEntertainment: true, upperCaseWeekday: true });

async function fingerprint(env: TestEnv, exclude: string[] = []): Promise<Record<string, string>> {
  const { rows } = await env.pool.query<Record<string, string>>(
    `
    SELECT (SELECT md5(string_agg(t::text, '|' ORDER BY transaction_id)) FROM transactions_flat t WHERE NOT (transaction_id = ANY($1::uuid[]))) AS flat,
           (SELECT md5(string_agg((to_jsonb(t) - 'event_dayofweek')::text, '|' ORDER BY transaction_id)) FROM transactions_flat t
            WHERE NOT (transaction_id = ANY($1::uuid[]))) AS flat_but_weekday,
           (SELECT md5(string_agg(r::text, '|' ORDER BY transaction_id)) FROM raw_transactions r WHERE NOT (transaction_id = ANY($1::uuid[]))) AS raw,
           (SELECT md5(string_agg((to_jsonb(b) - 'rows_version')::text, '|' ORDER BY id)) FROM bronze_objects b) AS manifest,
           (SELECT sum(rows_version)::text FROM bronze_objects) AS rows_versions`,
    [exclude],
  );
  return rows[0]!;
}

const sum = (rs: ReplayObjectResult[]): ReplayCounts =>
  rs.reduce((t, r) => {
    for (const k of ['records', 'inserted', 'duplicates', 'updated', 'conflicts', 'nowInvalid', 'stillQuarantined', 'rekeyed'] as const)
      t[k] += r[k];
    return t;
  }, emptyReplayCounts());

describe('replay from bronze', () => {
  let env: TestEnv;
  let objectIds: number[];
  let replayObjects: (spec: StreamSpec, runKey: string) => Promise<ReplayObjectResult[]>;
  const quality = async () =>
    (await activityEnv().run(createActivities(env).quality, {
      stream: 'transactions',
      runId: `replay-${env.id}`,
    })) as QualityResult;
  const failed = (q: QualityResult) => JSON.stringify(q.checks.filter((c) => !c.passed));

  before(async () => {
    env = await isolatedEnv('replay', { ARCHIVE_MAX_RECORDS_PER_OBJECT: 1_000 });
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, topic: env.topic(), rows: ROWS });
    const producer = env.kafka.producer();
    await producer.connect();
    for (const e of extra) await producer.send({ topic: env.topic(), messages: [{ partition: 0, key: null, value: JSON.stringify(e) }] });
    await producer.disconnect();
    const result = await runPipeline(env);
    assert.equal(result.quality.passed, true, failed(result.quality));
    assert.equal(result.rowsInserted, ROWS + 1);
    const { rows } = await env.pool.query<{ id: number }>('SELECT id::int FROM bronze_objects ORDER BY id');
    objectIds = rows.map((r) => r.id);
    replayObjects = (spec, runKey) => replayEach(env, objectIds, spec, runKey);
  });
  after(async () => env?.cleanup());

  it('with unchanged rules, the replay workflow changes no row and quality passes', async () => {
    const before = await fingerprint(env);
    const r = await withWorker(
      env,
      (client) =>
        client.workflow.execute('replayWorkflow', {
          taskQueue: env.config.TEMPORAL_TASK_QUEUE,
          workflowId: `replay-test-${env.id}`,
          args: [{ stream: 'transactions', ...everything }],
        }) as Promise<ReplayResult>,
    );
    assert.deepEqual(await fingerprint(env), before);
    assert.equal(r.objectsDone, objectIds.length);
    assert.equal(r.objectsTotal, objectIds.length);
    assert.equal(r.objectsNotLoaded, 0);
    assert.deepEqual(
      {
        records: r.records,
        inserted: r.inserted,
        duplicates: r.duplicates,
        updated: r.updated,
        conflicts: r.conflicts,
        stillQuarantined: r.stillQuarantined,
        nowInvalid: r.nowInvalid,
        rekeyed: r.rekeyed,
      },
      {
        records: ROWS + extra.length,
        inserted: 0,
        duplicates: 0,
        updated: 0,
        conflicts: 1,
        stillQuarantined: 3,
        nowInvalid: 0,
        rekeyed: 0,
      },
    );
    assert.equal(r.quality.passed, true, failed(r.quality));
  });

  it('selects the objects of the window only', async () => {
    const acts = createActivities(env);
    const list = (fromMs: number, toMs: number, afterId = 0, limit = 100) =>
      activityEnv().run(acts.listObjectsInWindow, {
        stream: 'transactions',
        fromMs,
        toMs,
        afterId,
        limit,
      }) as Promise<WindowPage>;
    assert.equal((await list(gen.startMs - 3 * DAY, gen.startMs - 2 * DAY)).objects.length, 0);
    const all = await list(everything.fromMs, everything.toMs);
    assert.deepEqual(
      all.objects.map((o) => o.bronzeObjectId),
      objectIds,
    );
    assert.equal(all.remaining, objectIds.length);
    const page = await list(everything.fromMs, everything.toMs, objectIds[0]!, 1);
    assert.deepEqual(
      page.objects.map((o) => o.bronzeObjectId),
      [objectIds[1]],
    );
    assert.equal(page.remaining, objectIds.length - 1);
  });

  it('after a rule change, loads what now passes, re-derives loaded rows, and is idempotent', async () => {
    const petsIds = [petsA.transaction_id, petsB.transaction_id];
    const before = await fingerprint(env, petsIds);
    const {
      rows: [f0],
    } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM transactions_flat');

    const first = await replayObjects(changed, 'rule-change');
    assert.deepEqual(sum(first), {
      ...emptyReplayCounts(),
      records: ROWS + extra.length,
      inserted: 2,
      duplicates: 1,
      updated: f0!.n,
      conflicts: 1,
    });

    const { rows: pets } = await env.pool.query<{ category: string; kind: string; bronze: number }>(
      'SELECT f.category, l.kind, f.bronze_object_id::int AS bronze FROM transactions_flat f JOIN loads l USING (load_id) WHERE transaction_id = ANY($1::uuid[])',
      [petsIds],
    );
    assert.equal(pets.length, 2);
    assert.ok(pets.every((p) => p.category === 'entertainment' && p.kind === 'replay' && objectIds.includes(p.bronze)));
    const { rows: q } = await env.pool.query<{ reason_code: string; replayed: boolean; load_kind: string | null }>(
      'SELECT q.reason_code, q.replayed_at IS NOT NULL AS replayed, l.kind AS load_kind FROM quarantine q LEFT JOIN loads l ON l.load_id = q.replay_load_id ORDER BY q.id',
    );
    assert.deepEqual(
      q.filter((r) => r.reason_code === 'UNKNOWN_VALUE').map((r) => [r.replayed, r.load_kind]),
      [
        [true, 'replay'],
        [true, 'replay'],
        [true, 'replay'],
      ],
    );
    assert.deepEqual(
      q.filter((r) => r.reason_code === 'CONFLICTING_DUPLICATE').map((r) => r.replayed),
      [false],
      'the conflict stays quarantined',
    );

    const {
      rows: [w],
    } = await env.pool.query<{ lower: number }>(
      'SELECT count(*) FILTER (WHERE event_dayofweek <> upper(event_dayofweek))::int AS lower FROM transactions_flat',
    );
    assert.equal(w!.lower, 0, 'every flat row has the newly derived weekday');
    const changedRows = await fingerprint(env, petsIds);
    assert.equal(changedRows.raw, before.raw, 'raw rows unchanged');
    assert.equal(changedRows.manifest, before.manifest, "the manifest describes the objects' own loads: unchanged");
    assert.ok(Number(changedRows.rows_versions) > Number(before.rows_versions), 'the sinks are told the rows changed (rows_version)');
    assert.equal(changedRows.flat_but_weekday, before.flat_but_weekday, 'only the derived column changed; keys and lineage stay');
    let qr = await quality();
    assert.equal(qr.passed, true, failed(qr));

    // A retry of the same replay after its commit returns the committed counts, adds no load.
    const {
      rows: [l0],
    } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM loads');
    const retried = await replayObjects(changed, 'rule-change');
    assert.ok(retried.every((r) => r.alreadyReplayed));
    assert.deepEqual(sum(retried), sum(first));
    // A second replay with the same rules changes nothing.
    const second = await replayObjects(changed, 'again');
    assert.deepEqual(sum(second), { ...emptyReplayCounts(), records: ROWS + extra.length, conflicts: 1 });
    assert.deepEqual(await fingerprint(env, petsIds), changedRows);
    const {
      rows: [l1],
    } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM loads');
    assert.equal(l1!.n, l0!.n + objectIds.length);
    qr = await quality();
    assert.equal(qr.passed, true, failed(qr));
  });

  it("from the CLI, with the worker's rules: re-derives rows, reports loaded records they reject, keeps them", async () => {
    const {
      rows: [f0],
    } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM transactions_flat');
    const iso = (ms: number) => new Date(ms).toISOString();
    const out = await withWorker(env, () =>
      promisify(execFile)(
        path.join(PROJECT_ROOT, 'bin', 'etl'),
        ['replay', '--stream', 'transactions', '--from', iso(everything.fromMs), '--to', iso(everything.toMs)],
        { env: { ...process.env, PG_SCHEMA: env.config.PG_SCHEMA, TEMPORAL_TASK_QUEUE: env.config.TEMPORAL_TASK_QUEUE }, encoding: 'utf8' },
      ),
    );
    assert.match(out.stdout, /^started replay-transactions-/m);
    assert.match(
      out.stdout,
      new RegExp(
        `\\(${(ROWS + extra.length).toLocaleString('en-US')} records\\): 0 inserted .*, ${(f0!.n - 2).toLocaleString('en-US')} rows updated, 1 conflicting`,
      ),
    );
    assert.match(out.stdout, /^3 loaded records are rejected by the current rules \(kept, not quarantined\): UNKNOWN_VALUE 3/m);
    assert.match(out.stdout, /Quality checks: (\d+)\/\1 passed/);
    const {
      rows: [f1],
    } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM transactions_flat');
    assert.equal(f1!.n, f0!.n, 'nothing deleted');
  });
});
