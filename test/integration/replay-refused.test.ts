// Replay from bronze when PostgreSQL refuses what the new rules derive: one quarantined record the
// new rules accept but whose insert PostgreSQL refuses (a CHECK), one loaded row whose re-derived
// columns it refuses (a numeric overflow). Neither stops the replay of their object: the record
// stays quarantined, the row keeps its old columns, every other record of the object replays in
// the same transaction, and the invariants (flat + open quarantine + duplicates = archived) hold.
// Then the common case: a record PostgreSQL refused at load (LOAD_REJECTED) whose rule still derives
// the same value stays quarantined through a replay, and is loaded by the replay after the fix.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createActivities, type QualityResult } from '../../activities';
import { writeLakeObject } from '../../activities/lake/write';
import { syntheticTransaction } from '../../streams/transactions/generator';
import { changedTransactionRules } from '../support/rule-changes';
import { editedPass } from '../support/edited-pass';
import { replayEach } from '../support/replay-each';
import { replayQuarantine } from '../../client/commands/quarantine';
import { isolatedEnv, runPipeline, type TestEnv } from '../support/harness';
import { activityEnv, runActivity as run } from '../support/activity-env';

const GOOD = 40;
const gen = { seed: 23, startMs: Date.now() - 3_600_000, windowMs: 3_600_000 };
const events = Array.from({ length: GOOD }, (_, i) => syntheticTransaction(2_000_000 + i, gen));
const petsAccepted = { ...syntheticTransaction(2_100_000, gen), category: 'pets' };
const petsRefused = { ...syntheticTransaction(2_100_001, gen), category: 'pets' };
const loadedRefused = events[17]!;

/** The new rules: pets are entertainment and the weekday is upper-case, but two records derive what PostgreSQL refuses. */
const changed = changedTransactionRules({
  petsAreEntertainment: true,
  upperCaseWeekday: true,
  derived: {
    [petsRefused.transaction_id]: { event_hour: 99 }, // CHECK (event_hour BETWEEN 0 AND 23): 23514, on insert
    [loadedRefused.transaction_id]: { amount: '1e20' }, // numeric(12,2): 22003, on update
  },
});

const REPLAYED_KEYS = ['records', 'inserted', 'duplicates', 'updated', 'conflicts', 'nowInvalid', 'stillQuarantined', 'rekeyed'] as const;

const quality = async (env: TestEnv) =>
  (await activityEnv().run(createActivities(env).quality, {
    stream: 'transactions',
    runId: `replay-refused-${env.id}`,
  })) as QualityResult;
const failed = (q: QualityResult) => JSON.stringify(q.checks.filter((c) => !c.passed));

/** flat rows + open quarantine rows + duplicates, and the records archived, from the tables. */
async function reconciliation(env: TestEnv): Promise<{ accounted: number; archived: number }> {
  const { rows } = await env.pool.query<{ accounted: string; archived: string }>(
    `SELECT (SELECT count(*) FROM transactions_flat) + (SELECT count(*) FROM quarantine WHERE replayed_at IS NULL)
              + (SELECT coalesce(sum(duplicate_count), 0) FROM loads) AS accounted,
            (SELECT sum(record_count) FROM bronze_objects) AS archived`,
  );
  return { accounted: Number(rows[0]!.accounted), archived: Number(rows[0]!.archived) };
}

describe('replay from bronze: rows PostgreSQL refuses', () => {
  let env: TestEnv;
  let objectIds: number[];
  let offsets: Record<'petsAccepted' | 'petsRefused' | 'loadedRefused', string>;
  const replay = (runKey: string) => replayEach(env, objectIds, changed, runKey);
  /** Every table a replay may touch, as text, to compare whole. */
  const snapshot = async () =>
    (
      await env.pool.query<Record<string, string>>(
        `SELECT (SELECT string_agg(t::text, '|' ORDER BY transaction_id) FROM transactions_flat t) AS flat,
                (SELECT string_agg(r::text, '|' ORDER BY transaction_id) FROM raw_transactions r) AS raw,
                (SELECT string_agg(q::text, '|' ORDER BY id) FROM quarantine q) AS quarantine,
                (SELECT string_agg(b::text, '|' ORDER BY id) FROM bronze_objects b) AS manifest`,
      )
    ).rows[0]!;

  before(async () => {
    env = await isolatedEnv('replay_refused');
    const producer = env.kafka.producer();
    await producer.connect();
    const sent = [...events, petsAccepted, petsRefused];
    const [meta] = await producer.send({
      topic: env.topic(),
      messages: sent.map((e) => ({ partition: 0, key: null, value: JSON.stringify(e) })),
    });
    await producer.disconnect();
    const offsetOf = (e: { transaction_id: string }) => String(BigInt(meta!.baseOffset!) + BigInt(sent.indexOf(e as never)));
    offsets = { petsAccepted: offsetOf(petsAccepted), petsRefused: offsetOf(petsRefused), loadedRefused: offsetOf(loadedRefused) };
    const result = await runPipeline(env);
    assert.equal(result.quality.passed, true, failed(result.quality));
    assert.equal(result.rowsInserted, GOOD);
    objectIds = (await env.pool.query<{ id: number }>('SELECT id::int FROM bronze_objects ORDER BY id')).rows.map((r) => r.id);
    assert.equal(objectIds.length, 1, 'one object: the refused rows and the others share its replay transaction');
  });
  after(async () => env?.cleanup());

  it('replays every other record of the object, leaves the refused ones where they were, and reports them', async () => {
    const flatRow = async (id: string) =>
      (await env.pool.query<{ row: string }>('SELECT t::text AS row FROM transactions_flat t WHERE transaction_id = $1', [id])).rows[0]
        ?.row;
    const keptBefore = await flatRow(loadedRefused.transaction_id);
    assert.ok(keptBefore);
    const {
      rows: [v0],
    } = await env.pool.query<{ v: number }>('SELECT rows_version AS v FROM bronze_objects WHERE id = $1', [objectIds[0]]);

    const [r] = await replay('refusals');
    assert.deepEqual(Object.fromEntries(REPLAYED_KEYS.map((k) => [k, r![k]])), {
      records: GOOD + 2,
      inserted: 1,
      duplicates: 0,
      updated: GOOD - 1,
      conflicts: 0,
      nowInvalid: 0,
      stillQuarantined: 0,
      rekeyed: 0,
    });
    assert.equal(r!.refused, 1);
    assert.deepEqual(r!.refusedByState, { '23514': 1 });
    assert.equal(r!.refusedSample.length, 1);
    assert.match(r!.refusedSample[0]!, new RegExp(`^0@${offsets.petsRefused} 23514 .*check constraint`));
    assert.equal(r!.refusedUpdates, 1);
    assert.deepEqual(r!.refusedUpdatesByState, { '22003': 1 });
    assert.match(r!.refusedUpdatesSample[0]!, new RegExp(`^0@${offsets.loadedRefused} 22003 numeric field overflow`));

    // Where each record is, from the tables.
    const { rows: flat } = await env.pool.query<{
      transaction_id: string;
      category: string;
      weekday: string;
      kind: string;
      load_id: string;
    }>(
      `SELECT f.transaction_id, f.category, f.event_dayofweek AS weekday, l.kind, f.load_id FROM transactions_flat f JOIN loads l USING (load_id)`,
    );
    const pets = flat.filter((f) => f.transaction_id === petsAccepted.transaction_id);
    assert.deepEqual(
      pets.map((p) => [p.category, p.kind, p.load_id]),
      [['entertainment', 'replay', String(r!.loadId)]],
      'the accepted record is loaded by the replay',
    );
    assert.equal(flat.filter((f) => f.transaction_id === petsRefused.transaction_id).length, 0, 'the refused record is not loaded');
    const {
      rows: [raw],
    } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM raw_transactions WHERE transaction_id = $1', [
      petsRefused.transaction_id,
    ]);
    assert.equal(raw!.n, 0);
    const { rows: q } = await env.pool.query<{ offset: string; reason_code: string; replayed: boolean; replay_load_id: string | null }>(
      'SELECT kafka_offset::text AS offset, reason_code, replayed_at IS NOT NULL AS replayed, replay_load_id FROM quarantine ORDER BY kafka_offset',
    );
    assert.deepEqual(q, [
      { offset: offsets.petsAccepted, reason_code: 'UNKNOWN_VALUE', replayed: true, replay_load_id: String(r!.loadId) },
      { offset: offsets.petsRefused, reason_code: 'UNKNOWN_VALUE', replayed: false, replay_load_id: null },
    ]);
    // The refused counts are the records found where they were left, not what remains of the others.
    const openAccepted = q.filter((x) => !x.replayed && x.offset === offsets.petsRefused).length;
    assert.equal(r!.refused, openAccepted, 'refused = open quarantine rows of records the new rules accept');
    const oldWeekday = flat.filter((f) => f.weekday !== f.weekday.toUpperCase());
    assert.deepEqual(
      oldWeekday.map((f) => f.transaction_id),
      [loadedRefused.transaction_id],
      'every loaded row has the new weekday but the refused one',
    );
    assert.equal(r!.refusedUpdates, oldWeekday.length);
    assert.equal(r!.updated, flat.filter((f) => f.kind === 'object' && f.weekday === f.weekday.toUpperCase()).length);
    assert.equal(await flatRow(loadedRefused.transaction_id), keptBefore, 'the refused row is kept exactly as it was');

    const rec = await reconciliation(env);
    assert.equal(rec.accounted, rec.archived, 'flat + open quarantine + duplicates = archived');
    const {
      rows: [v1],
    } = await env.pool.query<{ v: number }>('SELECT rows_version AS v FROM bronze_objects WHERE id = $1', [objectIds[0]]);
    assert.ok(v1!.v > v0!.v, 'the sinks are told the rows changed');
    const {
      rows: [stats],
    } = await env.pool.query<{ refused: number; refused_updates: number }>(
      "SELECT (replay_stats->>'refused')::int AS refused, (replay_stats->>'refusedUpdates')::int AS refused_updates FROM loads WHERE load_id = $1",
      [r!.loadId],
    );
    assert.deepEqual(stats, { refused: 1, refused_updates: 1 }, 'kept with the replay load');
    const qr = await quality(env);
    assert.equal(qr.passed, true, failed(qr));
  });

  it('a retry returns the committed counts, and a second replay with the same rules changes nothing', async () => {
    const before = await snapshot();
    const {
      rows: [l0],
    } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM loads');
    const [retried] = await replay('refusals');
    assert.equal(retried!.alreadyReplayed, true);
    assert.deepEqual([retried!.refused, retried!.refusedUpdates], [1, 1]);

    const [again] = await replay('again');
    assert.equal(again!.alreadyReplayed, false);
    assert.deepEqual(
      { inserted: again!.inserted, updated: again!.updated, duplicates: again!.duplicates, refused: again!.refused },
      { inserted: 0, updated: 0, duplicates: 0, refused: 1 },
    );
    assert.equal(again!.refusedUpdates, 1, 'the row is still refused its new columns, and still kept');
    assert.deepEqual(await snapshot(), before, 'rows, quarantine and manifest (rows_version too) unchanged');
    const {
      rows: [l1],
    } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM loads');
    assert.equal(l1!.n, l0!.n + 1, 'only the second replay added its load row');
    const rec = await reconciliation(env);
    assert.equal(rec.accounted, rec.archived);
    const qr = await quality(env);
    assert.equal(qr.passed, true, failed(qr));
  });
});

describe('replay from bronze: a record PostgreSQL refused at load', () => {
  let env: TestEnv;
  let objectId: number;
  const broken = events[5]!;
  // The rule that missed a case: it derives an hour PostgreSQL's CHECK refuses, at load and at replay.
  const stillBroken = changedTransactionRules({ upperCaseWeekday: true, derived: { [broken.transaction_id]: { event_hour: 99 } } });
  const fixed = changedTransactionRules({ upperCaseWeekday: true });
  const quarantined = async () =>
    (
      await env.pool.query<{ reason_code: string; replayed: boolean }>(
        'SELECT reason_code, replayed_at IS NOT NULL AS replayed FROM quarantine ORDER BY id',
      )
    ).rows;

  before(async () => {
    env = await isolatedEnv('replay_rejected');
    const producer = env.kafka.producer();
    await producer.connect();
    await producer.send({ topic: env.topic(), messages: events.map((e) => ({ partition: 0, key: null, value: JSON.stringify(e) })) });
    await producer.disconnect();
    // The load with that rule: the pass's output for the record carries its hour (as in load-rejected.test.ts).
    const breakingPass = editedPass((docs) => {
      for (const d of docs) if (d.transaction_id === broken.transaction_id) d.event_hour = 99;
    });
    const acts = createActivities(env, breakingPass);
    await run(acts.archive, { stream: 'transactions' });
    objectId = Number((await env.pool.query<{ id: string }>('SELECT id FROM bronze_objects')).rows[0]!.id);
    const loaded = await run(acts.transformAndLoad, { stream: 'transactions', bronzeObjectId: objectId });
    assert.deepEqual([loaded.inserted, loaded.rejected], [GOOD - 1, 1]);
    await run(acts.writeLake, { stream: 'transactions', bronzeObjectId: objectId });
    assert.deepEqual(await quarantined(), [{ reason_code: 'LOAD_REJECTED', replayed: false }]);
  });
  after(async () => env?.cleanup());

  it('stays quarantined as LOAD_REJECTED while the rule still derives the refused value; the rest of its object replays', async () => {
    const [r] = await replayEach(env, [objectId], stillBroken, 'still-broken');
    assert.deepEqual([r!.refused, r!.refusedByState, r!.refusedUpdates], [1, { '23514': 1 }, 0]);
    assert.deepEqual([r!.inserted, r!.updated], [0, GOOD - 1]);
    assert.deepEqual(await quarantined(), [{ reason_code: 'LOAD_REJECTED', replayed: false }]);
    const {
      rows: [f],
    } = await env.pool.query<{ n: number; upper: number }>(
      'SELECT count(*)::int AS n, count(*) FILTER (WHERE event_dayofweek = upper(event_dayofweek))::int AS upper FROM transactions_flat',
    );
    assert.deepEqual(f, { n: GOOD - 1, upper: GOOD - 1 });
    const rec = await reconciliation(env);
    assert.equal(rec.accounted, rec.archived);
    const qr = await quality(env);
    assert.equal(qr.passed, true, failed(qr));
  });

  it('is loaded by the replay after the rule is fixed, its quarantine row resolved', async () => {
    const [r] = await replayEach(env, [objectId], fixed, 'fixed');
    assert.deepEqual([r!.inserted, r!.refused, r!.updated], [1, 0, 0]);
    assert.deepEqual(await quarantined(), [{ reason_code: 'LOAD_REJECTED', replayed: true }]);
    const {
      rows: [f],
    } = await env.pool.query<{ n: number; kind: string }>(
      'SELECT count(*)::int AS n, max(l.kind) AS kind FROM transactions_flat f JOIN loads l USING (load_id) WHERE transaction_id = $1',
      [broken.transaction_id],
    );
    assert.deepEqual(f, { n: 1, kind: 'replay' });
    const rec = await reconciliation(env);
    assert.equal(rec.accounted, rec.archived);
    const qr = await quality(env);
    assert.equal(qr.passed, true, failed(qr));
  });
});

// `etl quarantine replay` with the same rules: of the two quarantined pets records, the one whose
// row PostgreSQL refuses stays quarantined under its reason; the other loads, in the same command.
describe('quarantine replay: a row PostgreSQL refuses', () => {
  let env: TestEnv;
  before(async () => {
    env = await isolatedEnv('quarantine_refused');
    const producer = env.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: env.topic(),
      messages: [...events, petsAccepted, petsRefused].map((e) => ({ partition: 0, key: null, value: JSON.stringify(e) })),
    });
    await producer.disconnect();
    const result = await runPipeline(env);
    assert.equal(result.quality.passed, true, failed(result.quality));
  });
  after(async () => env?.cleanup());

  it('loads the record it can, keeps the refused one quarantined, and reports it as LOAD_REJECTED', async () => {
    const open = async () =>
      (
        await env.pool.query<{ transaction_id: string }>(
          "SELECT payload::jsonb->>'transaction_id' AS transaction_id FROM quarantine WHERE replayed_at IS NULL ORDER BY id",
        )
      ).rows.map((r) => r.transaction_id);
    assert.deepEqual(await open(), [petsAccepted.transaction_id, petsRefused.transaction_id]);

    const r = await replayQuarantine(env.pool, changed, { stream: 'transactions', limit: 100 });
    assert.deepEqual([r.examined, r.loaded, r.duplicates, r.conflicts, r.stillInvalid], [2, 1, 0, 0, { LOAD_REJECTED: 1 }]);
    assert.deepEqual(await open(), [petsRefused.transaction_id], 'the refused record is still quarantined');
    const { rows } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM transactions_flat WHERE transaction_id = $1', [
      petsAccepted.transaction_id,
    ]);
    assert.equal(rows[0]!.n, 1);
    const { rows: load } = await env.pool.query('SELECT rows_in, inserted_count, rejected_count FROM loads WHERE load_id = $1', [r.loadId]);
    assert.deepEqual(load[0], { rows_in: 2, inserted_count: 1, rejected_count: 1 });
    const { accounted, archived } = await reconciliation(env);
    assert.equal(accounted, archived);
    for (const id of r.objectIds) await writeLakeObject(env, { stream: 'transactions', bronzeObjectId: id });
    const q = await quality(env);
    assert.equal(q.passed, true, failed(q));
  });
});
