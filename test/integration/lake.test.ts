// The Parquet lake against the flat table, read back by two third-party readers (DuckDB and pyarrow
// from PyPI): after a pipeline run with duplicates, a conflicting duplicate and quarantined records;
// after a replay with changed rules; after a write that died between its PUT and its commit (and
// moved an object's rows to another event date). Every row and every value is compared, and the
// types are checked as types (exact decimals, UTC instants). Then the quality checks are made to fail.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createActivities, type QualityResult } from '../../activities';
import { writeLakeObject } from '../../activities/lake/write';
import { produceTransactions } from '../../activities/ingest/produce';
import { replayBronzeObject, type ReplayObjectResult } from '../../activities/replay/replay';
import { lakeExport, lakeSummary, lakeSync, type LakeStreamSummary } from '../../client/commands/lake';
import { PROJECT_ROOT } from '../../lib/config';
import { transactionsStream } from '../../streams/transactions';
import { syntheticTransaction } from '../../streams/transactions/generator';
import type { StreamSpec } from '../../streams/types';
import { changedTransactionRules } from '../support/rule-changes';
import { isolatedEnv, runPipeline, type TestEnv } from '../support/harness';
import { configEnv } from '../support/isolation';
import { canonicalFlatRows, readLakeCopy, type CanonicalRow, type LakeReading } from '../support/lake-readers';
import { activityEnv } from '../support/activity-env';

const DAY = 86_400_000;
const ROWS = 9_000;
// Day-aligned in UTC and days before now: the same event dates whatever the time of day the test runs.
const gen = { seed: 23, startMs: Math.floor(Date.now() / DAY) * DAY - 4 * DAY, windowMs: 2 * DAY };
const event = (i: number, patch: Record<string, unknown> = {}) => ({ ...syntheticTransaction(2_000_000 + i, gen), ...patch });
const pets = event(1, { category: 'pets' });
const x = event(2);
// Sent after the generated events: a record the rules reject, one that is no JSON, a duplicate and a conflicting duplicate.
const extra: string[] = [
  JSON.stringify(pets),
  '{"not json',
  JSON.stringify(x),
  JSON.stringify(x),
  JSON.stringify({ ...x, amount: 999.99 }),
];

/** The rule change of the replay test: "pets" becomes a known category, the weekday is derived upper-case. */
const changed = changedTransactionRules({ petsAreEntertainment: true, upperCaseWeekday: true });
/** A rule change that moves every row to one event date: the object's other files must go. */
const MOVED_TO = '2020-02-29';
const moved: StreamSpec = {
  ...changed,
  validate: (v, context) => {
    const r = changed.validate(v, context);
    return r.ok ? { ok: true, row: { ...r.row, event_date: MOVED_TO } } : r;
  },
};

/** An S3 client whose PutObject lands and then "dies": the worker killed after the PUT, before the commit. */
function dyingAfterPut(s3: S3Client): S3Client {
  return new Proxy(s3, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver) as unknown;
      return async (command: unknown) => {
        const out = (await target.send(command as never)) as unknown;
        if (command instanceof PutObjectCommand) throw new Error('worker killed right after its PUT');
        return out;
      };
    },
  });
}

describe('the Parquet lake', () => {
  let env: TestEnv;
  let dir: string;
  const quality = async () =>
    (await activityEnv().run(createActivities(env).quality, {
      stream: 'transactions',
      runId: `lake-${env.id}`,
    })) as QualityResult;
  const failed = (q: QualityResult) => JSON.stringify(q.checks.filter((c) => !c.passed));
  const lakeCheck = (q: QualityResult, name: string) => q.checks.find((c) => c.name === name)!;

  /** The flat table's rows in the readers' canonical text, by key. */
  const flatRows = () => canonicalFlatRows(env.pool, 'transactions_flat', 'transaction_id');

  /** The live files copied out (as `etl lake export` does), read by both readers, compared with the flat table. */
  async function compareLake(label: string): Promise<LakeReading> {
    const { rows: live } = await env.pool.query<{ object_key: string }>(
      "SELECT object_key FROM lake_files WHERE stream = 'transactions' AND live ORDER BY 1",
    );
    const { rows: notLive } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM lake_files WHERE NOT live');
    assert.equal(notLive[0]!.n, 0, `${label}: no key of an unfinished write left`);
    assert.deepEqual(
      await env.listKeys('silver/'),
      live.map((r) => r.object_key).sort(),
      `${label}: the bucket holds exactly the live files`,
    );
    const copy = path.join(dir, label);
    const exported = await lakeExport(env, { stream: 'transactions', from: '1970-01-01', to: '9999-12-31', destination: copy });
    assert.equal(exported.files, live.length);
    const reading = readLakeCopy(copy);
    const flat = await flatRows();
    const byKey = (rows: CanonicalRow[]) => [...rows].sort((a, b) => (a.transaction_id! < b.transaction_id! ? -1 : 1));
    assert.ok(flat.length > ROWS - 10, `${label}: rows to compare`);
    assert.deepEqual(byKey(reading.duckdb), flat, `${label}: DuckDB reads exactly the flat rows`);
    assert.deepEqual(byKey(reading.pyarrow), flat, `${label}: pyarrow reads exactly the flat rows`);
    assert.equal(exported.rows, flat.length);
    // Types as types: exact decimals, instants in UTC, integers, strings; the partition a date.
    assert.equal(reading.schema.amount, 'decimal128(12, 2)');
    assert.equal(reading.schema.event_ts, 'timestamp[us, tz=UTC]');
    assert.equal(reading.schema.ingested_at, 'timestamp[us, tz=UTC]');
    assert.equal(reading.schema.user_id, 'int64');
    assert.equal(reading.schema.event_hour, 'int16');
    assert.equal(reading.schema.kafka_partition, 'int32');
    assert.equal(reading.schema.transaction_id, 'string');
    assert.equal(reading.schema.category, 'string');
    assert.equal(reading.schema.event_date, 'date32[day]');
    for (const f of reading.files) {
      assert.ok(
        f.rowGroups.every((n) => n <= env.config.LAKE_ROW_GROUP_ROWS),
        `${f.file}: row groups ${f.rowGroups.join(',')} bounded`,
      );
      for (const [column, c] of Object.entries(f.columns)) assert.deepEqual(c.codecs, ['ZSTD'], `${f.file} ${column}: zstd`);
      assert.ok(
        f.columns.category!.encodings.some((e) => /DICTIONARY/.test(e)),
        `${f.file}: category dictionary-encoded (${f.columns.category!.encodings.join(',')})`,
      );
      const {
        rows: [v],
      } = await env.pool.query<{ v: number }>('SELECT rows_version AS v FROM lake_objects WHERE bronze_object_id = $1', [
        Number(f.metadata['etl.bronze_object_id']),
      ]);
      assert.equal(f.metadata['etl.rows_version'], String(v!.v), `${f.file}: written from the version the manifest records`);
    }
    return reading;
  }

  before(async () => {
    // One partition, so an object's date holds more rows than a row group (DuckDB's smallest: 2048, one vector).
    env = await isolatedEnv('lake', { KAFKA_TOPIC_PARTITIONS: 1, ARCHIVE_MAX_RECORDS_PER_OBJECT: 6_000, LAKE_ROW_GROUP_ROWS: 2_048 });
    dir = await mkdtemp(path.join(tmpdir(), 'etl-lake-test-'));
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, topic: env.topic(), rows: ROWS });
    const producer = env.kafka.producer();
    await producer.connect();
    for (const value of extra) await producer.send({ topic: env.topic(), messages: [{ partition: 0, key: null, value }] });
    await producer.disconnect();
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    await env?.cleanup();
  });

  it('after a pipeline run, holds every flat row once with its values, and no duplicate, conflict or quarantined record', async () => {
    const result = await runPipeline(env);
    assert.equal(result.quality.passed, true, failed(result.quality));
    assert.equal(result.rowsInserted, ROWS + 1);
    assert.equal(result.lakeFailed, 0);
    const { rows: objects } = await env.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM bronze_objects WHERE loaded_at IS NOT NULL',
    );
    assert.equal(result.lakeObjectsWritten, objects[0]!.n, 'each loaded object written once');
    const reading = await compareLake('run');
    assert.equal(reading.duckdb.filter((r) => r.transaction_id === x.transaction_id).length, 1, 'the duplicated record once');
    assert.equal(
      reading.duckdb.find((r) => r.transaction_id === x.transaction_id)!.amount,
      x.amount.toFixed(2),
      'with its first value, not the conflict',
    );
    assert.equal(reading.duckdb.filter((r) => r.transaction_id === pets.transaction_id).length, 0, 'the quarantined record is not in it');
    assert.ok(
      reading.files.some((f) => f.rowGroups.length > 1),
      `an object-date with more rows than a row group is split: ${JSON.stringify(reading.files.map((f) => f.rowGroups))}`,
    );
    const [summary] = await lakeSummary(env.pool, ['transactions']);
    assert.equal(summary!.rows, ROWS + 1);
    assert.equal(summary!.objectsBehind, 0);
  });

  it('after a replay with changed rules, is rewritten to the re-derived rows (and the now-valid record)', async () => {
    const { rows: ids } = await env.pool.query<{ id: number }>('SELECT id::int FROM bronze_objects ORDER BY id');
    for (const { id } of ids) {
      const r = (await activityEnv().run(replayBronzeObject, env, changed, {
        stream: 'transactions',
        bronzeObjectId: id,
        workflowId: `lake-${env.id}`,
        runKey: 'lake-rule-change',
      })) as ReplayObjectResult;
      assert.ok(r.updated > 0 || r.inserted > 0, `object ${id} re-derived`);
    }
    const behind = lakeCheck(await quality(), 'lake_objects_current');
    assert.equal(behind.passed, false, 'the lake is behind the replayed rows until rewritten');
    const sync = await lakeSync(env, 'transactions');
    assert.deepEqual([sync.objectsWritten, sync.objectsFailed], [ids.length, 0]);
    const reading = await compareLake('replay');
    assert.ok(
      reading.pyarrow.every((r) => r.event_dayofweek === r.event_dayofweek!.toUpperCase()),
      'the re-derived weekday',
    );
    assert.equal(
      reading.pyarrow.find((r) => r.transaction_id === pets.transaction_id)?.category,
      'entertainment',
      'the record the rules now accept',
    );
    const q = await quality();
    assert.equal(q.passed, true, failed(q));
    assert.equal((await lakeSync(env, 'transactions')).objectsWritten, 0, 'a second sync has nothing to write');
  });

  it('a write killed after its PUT leaves no file a manifest reader sees; the next write converges and removes what the object no longer has', async () => {
    const {
      rows: [o],
    } = await env.pool.query<{ id: number; dates: number }>(
      `SELECT bronze_object_id::int AS id, count(*)::int AS dates FROM lake_files WHERE live GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1`,
    );
    assert.ok(o!.dates > 1, 'an object with files on more than one event date');
    const { rows: before } = await env.pool.query<{ object_key: string }>('SELECT object_key FROM lake_files WHERE bronze_object_id = $1', [
      o!.id,
    ]);
    await activityEnv().run(replayBronzeObject, env, moved, {
      stream: 'transactions',
      bronzeObjectId: o!.id,
      workflowId: `lake-${env.id}`,
      runKey: 'lake-moved',
    });
    await assert.rejects(
      writeLakeObject({ ...env, s3: dyingAfterPut(env.s3) }, { stream: 'transactions', bronzeObjectId: o!.id }),
      /killed/,
    );
    // The new key landed but is not live: the manifest still lists the old set, and says what is unfinished.
    const { rows: after1 } = await env.pool.query<{ object_key: string; live: boolean }>(
      'SELECT object_key, live FROM lake_files WHERE bronze_object_id = $1 ORDER BY 1',
      [o!.id],
    );
    assert.deepEqual(
      after1
        .filter((r) => r.live)
        .map((r) => r.object_key)
        .sort(),
      before.map((r) => r.object_key).sort(),
    );
    const pending = after1.filter((r) => !r.live).map((r) => r.object_key);
    assert.equal(pending.length, 1);
    assert.match(pending[0]!, new RegExp(`/event_date=${MOVED_TO}/`));
    const q1 = await quality();
    assert.equal(lakeCheck(q1, 'lake_objects_current').passed, false, 'behind, and named');
    assert.match(lakeCheck(q1, 'lake_files_match_storage').details!, /not in the manifest .*event_date=2020-02-29/);

    const sync = await lakeSync(env, 'transactions');
    assert.deepEqual([sync.objectsWritten, sync.objectsFailed], [1, 0]);
    const { rows: after2 } = await env.pool.query<{ object_key: string }>('SELECT object_key FROM lake_files WHERE bronze_object_id = $1', [
      o!.id,
    ]);
    assert.deepEqual(
      after2.map((r) => r.object_key),
      pending,
      'one file, on the one date the object has now',
    );
    await compareLake('after-kill');
    const q2 = await quality();
    assert.equal(q2.passed, true, failed(q2));
  });

  it('a writer process SIGKILLed between its PUT and its commit: no orphan, the lock dies with it, the next write converges', async () => {
    const {
      rows: [o],
    } = await env.pool.query<{ id: number }>(
      `SELECT bronze_object_id::int AS id FROM lake_files WHERE live AND bronze_object_id <> (SELECT max(bronze_object_id) FROM lake_files WHERE event_date = $1)
       GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`,
      [MOVED_TO],
    );
    // Back to the original rules: the object's rows change again, so its lake is behind.
    await activityEnv().run(replayBronzeObject, env, transactionsStream, {
      stream: 'transactions',
      bronzeObjectId: o!.id,
      workflowId: `lake-${env.id}`,
      runKey: 'lake-kill',
    });
    const liveBefore = (await env.pool.query<{ object_key: string }>('SELECT object_key FROM lake_files WHERE live ORDER BY 1')).rows;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_ROOT, 'test', 'support', 'lake-write-child.ts'), 'transactions', String(o!.id)],
      {
        env: { ...process.env, ...configEnv(env.config) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(child, 'exit');
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => (d.toString().includes('PUT done') ? resolve() : undefined));
      void exited.then(() => reject(new Error(`the writer ended before its PUT: ${stderr}`)));
    });
    child.kill('SIGKILL');
    const [, signal] = (await exited) as [number | null, string | null];
    assert.equal(signal, 'SIGKILL');

    // The manifest's live set is what it was, and the bucket holds no key the manifest does not know.
    assert.deepEqual(
      (await env.pool.query<{ object_key: string }>('SELECT object_key FROM lake_files WHERE live ORDER BY 1')).rows,
      liveBefore,
    );
    const known = new Set(
      (await env.pool.query<{ object_key: string }>('SELECT object_key FROM lake_files')).rows.map((r) => r.object_key),
    );
    assert.deepEqual(
      (await env.listKeys('silver/')).filter((k) => !known.has(k)),
      [],
      'no orphan',
    );
    assert.equal(lakeCheck(await quality(), 'lake_objects_current').passed, false, 'the object is behind until rewritten');
    // The killed session's advisory lock went with its connection: the next write does not wait for it.
    const again = await writeLakeObject(env, { stream: 'transactions', bronzeObjectId: o!.id });
    assert.equal(again.upToDate, false);
    await compareLake('after-sigkill');
    const q = await quality();
    assert.equal(q.passed, true, failed(q));
  });

  it('etl lake shows the lake per stream, exports an event-date range, and refuses bad input with usage and exit 2', async () => {
    const etl = (...args: string[]) =>
      spawnSync(path.join(PROJECT_ROOT, 'bin', 'etl'), args, {
        encoding: 'utf8',
        env: { ...process.env, PG_SCHEMA: env.config.PG_SCHEMA, S3_PREFIX: env.config.S3_PREFIX },
      });
    assert.match(etl('lake').stdout, /transactions/, 'etl lake alone shows every stream');
    const shown = etl('lake', 'show', '--stream', 'transactions', '--json');
    assert.equal(shown.status, 0, shown.stderr);
    const [summary] = JSON.parse(shown.stdout) as LakeStreamSummary[];
    const { rows: flat } = await env.pool.query<{ n: number; from: string; to: string }>(
      "SELECT count(*)::int AS n, to_char(min(event_date), 'YYYY-MM-DD') AS from, to_char(max(event_date), 'YYYY-MM-DD') AS to FROM transactions_flat",
    );
    assert.deepEqual(
      [summary!.rows, summary!.fromDate, summary!.toDate, summary!.objectsBehind],
      [flat[0]!.n, flat[0]!.from, flat[0]!.to, 0],
    );

    const { rows: day } = await env.pool.query<{ d: string; n: number }>(
      "SELECT to_char(event_date, 'YYYY-MM-DD') AS d, count(*)::int AS n FROM transactions_flat GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
    );
    const out = path.join(dir, 'export-cli');
    const exported = etl('lake', 'export', 'transactions', out, '--from', day[0]!.d, '--to', day[0]!.d, '--json');
    assert.equal(exported.status, 0, exported.stderr);
    assert.equal((JSON.parse(exported.stdout) as { rows: number }).rows, day[0]!.n);
    const copy = readLakeCopy(out);
    assert.equal(copy.pyarrow.length, day[0]!.n, "the exported range holds that date's rows");
    assert.ok(copy.pyarrow.every((r) => r.event_date === day[0]!.d));

    for (const bad of [
      ['lake', 'export', 'transactions', out, '--from', '2026-02-30', '--to', '2026-03-01'],
      ['lake', 'export', 'transactions', out, '--from', '2026-03-02', '--to', '2026-03-01'],
      ['lake', 'export', 'nope', out, '--from', '2026-03-01', '--to', '2026-03-01'],
      ['lake', 'export', 'transactions', 's3://', '--from', '2026-03-01', '--to', '2026-03-01'],
      ['lake', 'sideways'],
    ]) {
      const r = etl(...bad);
      assert.equal(r.status, 2, `${bad.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /error/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it('the quality checks fail when a lake file is missing, or holds other rows than the manifest says', async () => {
    const {
      rows: [f],
    } = await env.pool.query<{ object_key: string }>('SELECT object_key FROM lake_files WHERE live ORDER BY object_key LIMIT 1');
    await env.pool.query('UPDATE lake_files SET rows = rows + 1 WHERE object_key = (SELECT max(object_key) FROM lake_files WHERE live)');
    await env.s3.send(new DeleteObjectCommand({ Bucket: env.config.S3_BUCKET, Key: f!.object_key }));
    const q = await quality();
    assert.equal(q.passed, false);
    const storage = lakeCheck(q, 'lake_files_match_storage');
    assert.equal(storage.passed, false);
    assert.ok(storage.details!.includes(`missing ${f!.object_key}`), storage.details);
    assert.equal(lakeCheck(q, 'lake_rows_match_flat').passed, false, 'the row count of an object no longer matches its flat rows');
  });
});
