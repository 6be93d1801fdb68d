// Other producers write to the same topic. Every hostile record, sent with a plain Kafka client,
// is quarantined with a clear reason, its original bytes and its Kafka coordinates; the partition
// keeps flowing behind it; lineage traces what was loaded; a replay after a rule fix loads what
// now passes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RecordMetadata } from 'kafkajs';
import { createActivities, type QualityResult } from '../../activities';
import { bronzeLineage, recordLineage } from '../../client/commands/lineage';
import { lakeSync } from '../../client/commands/lake';
import { listQuarantine, replayQuarantine } from '../../client/commands/quarantine';
import { PROJECT_ROOT } from '../../lib/config';
import { produceTransactions } from '../../activities/ingest/produce';
import { transactionsStream } from '../../streams/transactions';
import { syntheticTransaction } from '../../streams/transactions/generator';
import type { PipelineResult } from '../../workflows';
import { changedTransactionRules } from '../support/rule-changes';
import { isolatedEnv, runPipeline, type TestEnv } from '../support/harness';
import { activityEnv } from '../support/activity-env';

const gen = { seed: 21, startMs: Date.now() - 86_400_000, windowMs: 86_400_000 };
const BLOCKED_MERCHANT = 'Blocked Merchant Ltd';
const REQUIRED = [
  'transaction_id',
  'event_ts',
  'user_id',
  'amount',
  'merchant',
  'category',
  'city',
  'status',
  'payment_method',
  'currency',
] as const;

interface Case {
  name: string;
  value: Buffer | null;
  code?: string;
  loaded?: boolean;
  meta?: RecordMetadata;
}

let n = 0;
/** A valid event with a fresh id, changed by `patch`. */
function event(patch: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...syntheticTransaction(100_000 + n++, gen), ...patch };
}
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('hostile input', () => {
  let env: TestEnv;
  let result: PipelineResult;
  const original = event();
  const cases: Case[] = [
    { name: 'malformed JSON', value: Buffer.from('{"transaction_id": "x", '), code: 'MALFORMED_JSON' },
    { name: 'empty message', value: Buffer.alloc(0), code: 'EMPTY_VALUE' },
    { name: 'null value', value: null, code: 'NULL_VALUE' },
    { name: 'non-UTF-8 bytes', value: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), code: 'NOT_UTF8' },
    { name: 'JSON array', value: json([event()]), code: 'NOT_AN_OBJECT' },
    { name: 'JSON number', value: Buffer.from('42'), code: 'NOT_AN_OBJECT' },
    { name: 'JSON string', value: Buffer.from('"hello"'), code: 'NOT_AN_OBJECT' },
    ...REQUIRED.map((field) => ({ name: `missing ${field}`, value: json(event({ [field]: undefined })), code: 'MISSING_FIELD' })),
    { name: 'amount as object', value: json(event({ amount: { value: 10 } })), code: 'WRONG_TYPE' },
    { name: 'user_id as text', value: json(event({ user_id: 'alice' })), code: 'WRONG_TYPE' },
    { name: 'status as number', value: json(event({ status: 3 })), code: 'WRONG_TYPE' },
    { name: 'negative amount', value: json(event({ amount: -12.5 })), code: 'INVALID_VALUE' },
    { name: 'zero amount', value: json(event({ amount: 0 })), code: 'INVALID_VALUE' },
    { name: 'NaN-like amount', value: json(event({ amount: 'NaN' })), code: 'INVALID_VALUE' },
    { name: 'Infinity-like amount', value: json(event({ amount: 'Infinity' })), code: 'INVALID_VALUE' },
    { name: 'absurdly large amount', value: json(event({ amount: 9e15 })), code: 'INVALID_VALUE' },
    { name: 'amount with 3 decimals', value: json(event({ amount: 12.345 })), code: 'INVALID_VALUE' },
    { name: 'invalid uuid', value: json(event({ transaction_id: '1234-not-a-uuid' })), code: 'INVALID_VALUE' },
    { name: 'unparseable event_ts', value: json(event({ event_ts: 'last tuesday' })), code: 'INVALID_VALUE' },
    { name: 'far-future event_ts', value: json(event({ event_ts: '2999-01-01T00:00:00Z' })), code: 'INVALID_VALUE' },
    { name: 'far-past event_ts', value: json(event({ event_ts: '1970-01-02T00:00:00Z' })), code: 'INVALID_VALUE' },
    { name: 'unknown status', value: json(event({ status: 'CHARGEBACK' })), code: 'UNKNOWN_VALUE' },
    { name: 'unknown category', value: json(event({ category: 'pets' })), code: 'UNKNOWN_VALUE' },
    { name: 'unknown currency', value: json(event({ currency: 'DOGE' })), code: 'UNKNOWN_VALUE' },
    { name: 'a 1 MB message', value: json(event({ merchant: 'x'.repeat(1_000_000) })), code: 'TOO_LARGE' },
    {
      name: 'a huge number of fields',
      value: json({ ...event(), ...Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`f${i}`, i])) }),
      code: 'TOO_MANY_FIELDS',
    },
    // Valid by every rule of the stream as they were, yet PostgreSQL refuses to store them (checked
    // with psql): text and jsonb hold no NUL (22021, 22P05), jsonb no unpaired surrogate (22P02).
    { name: 'NUL escape in the merchant', value: json(event({ merchant: 'Carre\u0000four' })), code: 'UNSTORABLE_VALUE' },
    { name: 'NUL escape in an extra field', value: json(event({ note: { text: 'a\u0000b' } })), code: 'UNSTORABLE_VALUE' },
    { name: 'unpaired surrogate in the merchant', value: json(event({ merchant: 'Fnac\ud800' })), code: 'UNSTORABLE_VALUE' },
    {
      name: 'a number beyond a double in an extra field',
      value: Buffer.from(JSON.stringify(event()).replace(/}$/, ',"score":1e999}')),
      code: 'UNSTORABLE_VALUE',
    },
    {
      name: 'a value nested 40 levels deep',
      value: json(event({ extra: JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`) as unknown })),
      code: 'TOO_DEEP',
    },
    // A constraint added to the table that the stream's rules do not know: found at load.
    { name: 'a merchant a table constraint refuses', value: json(event({ merchant: BLOCKED_MERCHANT })), code: 'LOAD_REJECTED' },
    // Ambiguous JSON: which amount is meant? Not resolved "last one wins".
    { name: 'amount named twice', value: Buffer.from(JSON.stringify(event()).replace(/}$/, ',"amount":999.99}')), code: 'DUPLICATE_FIELD' },
    {
      name: 'a nested field named twice',
      value: Buffer.from(JSON.stringify(event()).replace(/}$/, ',"device":{"os":"ios","os":"android"}}')),
      code: 'DUPLICATE_FIELD',
    },
    // A raw NUL byte is valid UTF-8 but not JSON; its quarantine row keeps the bytes as base64.
    {
      name: 'a raw NUL byte inside a string',
      value: Buffer.from(JSON.stringify(event({ merchant: 'Fnac' })).replace('Fnac', 'Fn\0ac')),
      code: 'MALFORMED_JSON',
    },
    {
      name: 'extra unknown fields (kept, not an error)',
      value: json(event({ loyalty_tier: 'gold', device: { os: 'ios' } })),
      loaded: true,
    },
    { name: 'first copy of an event', value: json(original), loaded: true },
    { name: 'same id, same payload (deduplicated)', value: json(original), loaded: false },
    { name: 'same id, different payload (conflict)', value: json({ ...original, amount: 999.99 }), code: 'CONFLICTING_DUPLICATE' },
    { name: 'a valid event behind all of them', value: json(event()), loaded: true },
  ];

  before(async () => {
    env = await isolatedEnv('hostile', { ARCHIVE_MAX_RECORDS_PER_OBJECT: 400 });
    await env.pool.query(`ALTER TABLE transactions_flat ADD CONSTRAINT merchant_not_blocked CHECK (merchant <> '${BLOCKED_MERCHANT}')`);
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, topic: env.topic(), rows: 600 });
    const producer = env.kafka.producer(); // a plain client: not our producer, no idempotence, no schema
    await producer.connect();
    for (const c of cases) [c.meta] = await producer.send({ topic: env.topic(), messages: [{ partition: 0, key: null, value: c.value }] });
    await producer.disconnect();
    result = await runPipeline(env);
  });
  after(async () => env?.cleanup());

  it('quarantines each hostile record with its reason code, original bytes and Kafka coordinates', async () => {
    const { rows } = await env.pool.query<{
      reason_code: string;
      reason: string;
      payload: string | null;
      payload_encoding: string;
      kafka_partition: number;
      kafka_offset: string;
    }>('SELECT reason_code, reason, payload, payload_encoding, kafka_partition, kafka_offset FROM quarantine');
    const bad = cases.filter((c) => c.code);
    assert.equal(rows.length, bad.length);
    for (const c of bad) {
      const row = rows.find((r) => r.kafka_partition === c.meta!.partition && r.kafka_offset === c.meta!.baseOffset);
      assert.ok(row, `${c.name}: quarantined at ${c.meta!.partition}@${c.meta!.baseOffset}`);
      assert.equal(row.reason_code, c.code, `${c.name}: ${row.reason}`);
      assert.ok(row.reason.length > 10, `${c.name} has a readable reason`);
      if (c.code === 'LOAD_REJECTED')
        assert.match(
          row.reason,
          /SQLSTATE 23514\): new row for relation "transactions_flat" violates check constraint "merchant_not_blocked"/,
        );
      if (c.code === 'CONFLICTING_DUPLICATE') {
        assert.deepEqual(JSON.parse(row.payload!), JSON.parse(c.value!.toString()), 'the conflicting payload is kept (as JSON)');
        assert.match(row.reason, /with a different payload/);
      } else {
        const bytes = c.value === null ? null : Buffer.from(row.payload!, row.payload_encoding === 'base64' ? 'base64' : 'utf8');
        assert.deepEqual(bytes, c.value, `${c.name}: original bytes`);
      }
    }
  });

  it('loads the valid records, keeps extra fields in raw, deduplicates and never overwrites', async () => {
    const { rows } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM transactions_flat');
    assert.equal(rows[0]!.n, 600 + cases.filter((c) => c.loaded).length);
    assert.equal(result.duplicates, 1);
    const extra = cases.find((c) => c.name.startsWith('extra'))!;
    const extraId = (JSON.parse(extra.value!.toString()) as { transaction_id: string }).transaction_id;
    const { rows: raw } = await env.pool.query<{ payload: { loyalty_tier: string; device: unknown } }>(
      'SELECT payload FROM raw_transactions WHERE transaction_id = $1',
      [extraId],
    );
    assert.equal(raw[0]!.payload.loyalty_tier, 'gold');
    assert.deepEqual(raw[0]!.payload.device, { os: 'ios' });
    const { rows: kept } = await env.pool.query<{ amount: string }>(
      'SELECT amount::text FROM transactions_flat WHERE transaction_id = $1',
      [original.transaction_id],
    );
    assert.equal(kept[0]!.amount, (original.amount as number).toFixed(2), 'the first payload stays');
    assert.equal(result.quality.passed, true, JSON.stringify(result.quality.checks.filter((q) => !q.passed)));
  });

  it('keeps the partition flowing behind bad records', async () => {
    const last = cases.at(-1)!;
    const id = (JSON.parse(last.value!.toString()) as { transaction_id: string }).transaction_id;
    const { rows } = await env.pool.query<{ kafka_partition: number; kafka_offset: string }>(
      'SELECT kafka_partition, kafka_offset::text FROM transactions_flat WHERE transaction_id = $1',
      [id],
    );
    assert.deepEqual(rows[0], { kafka_partition: 0, kafka_offset: last.meta!.baseOffset });
  });

  it('traces a loaded record to its offset, objects and load, and a conflict to both copies', async () => {
    const first = cases.find((c) => c.name === 'first copy of an event')!;
    const l = await recordLineage(env.pool, transactionsStream, original.transaction_id as string);
    assert.deepEqual(l.loaded!.kafka, { topic: env.topic(), partition: 0, offset: first.meta!.baseOffset });
    assert.equal(l.loaded!.inRaw, true);
    const b = l.loaded!.bronze!;
    const offset = BigInt(first.meta!.baseOffset!);
    assert.ok(BigInt(b.first_offset) <= offset && offset <= BigInt(b.last_offset));
    assert.deepEqual(
      b.loads.map((x) => x.load_id),
      [l.loaded!.load.load_id],
    );
    assert.equal(l.quarantined.length, 1);
    assert.equal(l.quarantined[0]!.reason_code, 'CONFLICTING_DUPLICATE');
    assert.equal((await bronzeLineage(env.pool, b.id))!.object_key, b.object_key);
  });

  it('replays quarantined records once a rule is fixed, through the same load', async () => {
    // The rule fix: "pets" becomes a known category (mapped onto an existing one here).
    const fixed = changedTransactionRules({ petsAreEntertainment: true });
    const before = await listQuarantine(env.pool, { stream: 'transactions', reason: 'UNKNOWN_VALUE', limit: 100 });
    assert.equal(before.length, 3);
    const r = await replayQuarantine(env.pool, fixed, { stream: 'transactions', reason: 'UNKNOWN_VALUE', limit: 100 });
    assert.equal(r.examined, 3);
    assert.equal(r.loaded, 1);
    assert.deepEqual(r.stillInvalid, { UNKNOWN_VALUE: 2 });
    const pets = cases.find((c) => c.name === 'unknown category')!;
    const petsId = (JSON.parse(pets.value!.toString()) as { transaction_id: string }).transaction_id;
    const { rows } = await env.pool.query<{ category: string; load_id: number }>(
      'SELECT category, load_id::int FROM transactions_flat WHERE transaction_id = $1',
      [petsId],
    );
    assert.deepEqual(rows[0], { category: 'entertainment', load_id: r.loadId });
    const after = await listQuarantine(env.pool, { stream: 'transactions', reason: 'UNKNOWN_VALUE', limit: 100 });
    assert.equal(after.length, 2, 'replayed records leave the open quarantine');
    const again = await replayQuarantine(env.pool, fixed, { stream: 'transactions', reason: 'UNKNOWN_VALUE', limit: 100 });
    assert.equal(again.loaded, 0, 'a second replay changes nothing');
    // As `etl quarantine replay` does after its load: the lake of the one object with a new row
    // follows; the objects of the records still refused kept their rows and their version, so the
    // quality checks below find no object's lake behind.
    assert.equal(r.objectIds.length, 1);
    const lake = await lakeSync(env, 'transactions', r.objectIds);
    assert.deepEqual([lake.objectsWritten, lake.objectsFailed], [1, 0]);

    const quality = (await activityEnv().run(createActivities(env).quality, {
      stream: 'transactions',
      runId: `replay-${env.id}`,
    })) as QualityResult;
    assert.equal(quality.passed, true, JSON.stringify(quality.checks.filter((q) => !q.passed)));
  });

  it('lists quarantine from the CLI as JSON', () => {
    const out = spawnSync(path.join(PROJECT_ROOT, 'bin', 'etl'), ['quarantine', 'list', '--json', '--reason', 'MISSING_FIELD'], {
      env: { ...process.env, PG_SCHEMA: env.config.PG_SCHEMA },
      encoding: 'utf8',
    });
    assert.equal(out.status, 0, out.stderr);
    const rows = JSON.parse(out.stdout) as { reason_code: string }[];
    assert.equal(rows.length, REQUIRED.length);
    assert.ok(rows.every((r) => r.reason_code === 'MISSING_FIELD'));
  });
});
