// The lake writer on one process-wide DuckDB instance (lib/duckdb.ts), as a worker runs it: two
// objects' writes held open on the same instance at the same time still produce exactly their rows
// (read back by DuckDB and pyarrow from PyPI), and closing the clients closes the instance.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createActivities, type Activities } from '../../activities';
import { produceTransactions } from '../../activities/ingest/produce';
import { lakeExport } from '../../client/commands/lake';
import { buildClients } from '../../lib/clients';
import type { DuckDb } from '../../lib/duckdb';
import { isolatedEnv, type TestEnv } from '../support/harness';
import { canonicalFlatRows, readLakeCopy, type CanonicalRow } from '../support/lake-readers';
import { runActivity as run } from '../support/activity-env';

const DAY = 86_400_000;
const ROWS = 4_000;
const gen = { seed: 41, startMs: Math.floor(Date.now() / DAY) * DAY - 3 * DAY, windowMs: 2 * DAY };

/**
 * The same instance, whose connections are each held until `parties` are open at once (10 s at
 * most), so the writes of the test overlap inside DuckDB rather than merely in the event loop.
 */
function overlapping(inner: DuckDb, parties: number) {
  const stats = { open: 0, maxOpen: 0, connections: 0 };
  const release: (() => void)[] = [];
  const db: DuckDb = {
    async connect() {
      const connection = await inner.connect();
      stats.connections++;
      stats.maxOpen = Math.max(stats.maxOpen, ++stats.open);
      const close = connection.closeSync.bind(connection);
      connection.closeSync = () => {
        stats.open--;
        close();
      };
      if (stats.open >= parties) for (const go of release.splice(0)) go();
      else await new Promise<void>((resolve) => release.push(resolve) && setTimeout(resolve, 10_000).unref());
      return connection;
    },
    get open() {
      return inner.open;
    },
    close: () => inner.close(),
  };
  return { db, stats };
}

describe("the lake writer on the process's one DuckDB instance", () => {
  let env: TestEnv;
  let acts: Activities;
  let dir: string;

  before(async () => {
    env = await isolatedEnv('lakeduck', { KAFKA_TOPIC_PARTITIONS: 1, ARCHIVE_MAX_RECORDS_PER_OBJECT: ROWS / 2 });
    dir = await mkdtemp(path.join(tmpdir(), 'etl-lake-duckdb-test-'));
    acts = createActivities(env);
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, topic: env.topic(), rows: ROWS });
    const archived = await run(acts.archive, { stream: 'transactions' });
    assert.equal(archived.recordsArchived, ROWS);
    const queue = await run(acts.listUnloadedObjects, { stream: 'transactions', limit: 10 });
    assert.equal(queue.length, 2, 'two objects to write at once');
    for (const o of queue) await run(acts.transformAndLoad, { stream: 'transactions', bronzeObjectId: o.bronzeObjectId });
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    await env?.cleanup();
  });

  it('writes two objects at once through one instance, each file holding exactly its rows', async () => {
    const { rows: objects } = await env.pool.query<{ id: number }>(
      'SELECT id::int FROM bronze_objects WHERE loaded_at IS NOT NULL ORDER BY id',
    );
    assert.equal(objects.length, 2);
    assert.equal(env.duckdb.open, false, 'nothing opened DuckDB before the first lake write');
    const { db, stats } = overlapping(env.duckdb, 2);
    const shared = createActivities({ ...env, duckdb: db });
    const written = await Promise.all(objects.map(({ id }) => run(shared.writeLake, { stream: 'transactions', bronzeObjectId: id })));
    assert.deepEqual(
      { connections: stats.connections, maxOpen: stats.maxOpen, open: stats.open },
      { connections: 2, maxOpen: 2, open: 0 },
      'one connection per write, both open at once, both closed',
    );
    assert.equal(env.duckdb.open, true, 'the instance outlives the writes');
    assert.deepEqual(
      written.map((w) => [w.upToDate, w.rows]),
      [
        [false, ROWS / 2],
        [false, ROWS / 2],
      ],
    );

    const copy = path.join(dir, 'lake');
    const exported = await lakeExport(env, { stream: 'transactions', from: '1970-01-01', to: '9999-12-31', destination: copy });
    assert.equal(exported.rows, ROWS);
    const reading = readLakeCopy(copy);
    const flat = await canonicalFlatRows(env.pool, 'transactions_flat', 'transaction_id');
    assert.equal(flat.length, ROWS);
    const byKey = (rows: CanonicalRow[]) => [...rows].sort((a, b) => (a.transaction_id! < b.transaction_id! ? -1 : 1));
    assert.deepEqual(byKey(reading.duckdb), flat, 'DuckDB reads exactly the flat rows');
    assert.deepEqual(byKey(reading.pyarrow), flat, 'pyarrow reads exactly the flat rows');
    assert.equal(reading.schema.amount, 'decimal128(12, 2)');
    assert.equal(reading.schema.event_ts, 'timestamp[us, tz=UTC]');
    // Each file holds its own object's rows only: the two writes' tables never mixed.
    for (const f of reading.files) {
      const id = Number(f.metadata['etl.bronze_object_id']);
      const date = /event_date=(\d{4}-\d{2}-\d{2})/.exec(f.file)![1];
      const mine = flat.filter((r) => Number(r.bronze_object_id) === id && r.event_date === date);
      assert.equal(f.rows, mine.length, `${f.file}: the rows of object ${id} on ${date}`);
    }
    assert.deepEqual(new Set(reading.files.map((f) => Number(f.metadata['etl.bronze_object_id']))), new Set(objects.map((o) => o.id)));
  });

  it('closes the instance with the clients, after which a lake write is refused', async () => {
    const clients = buildClients(env.config);
    const connection = await clients.duckdb.connect();
    const spill = (await connection.runAndReadAll("SELECT current_setting('temp_directory') AS d")).getRowObjectsJS()[0]!.d as string;
    const limit = (await connection.runAndReadAll("SELECT current_setting('memory_limit') AS m")).getRowObjectsJS()[0]!.m as string;
    connection.closeSync();
    assert.ok(spill.startsWith(path.join(tmpdir(), 'etl-duckdb-')) && existsSync(spill), `a spill directory of its own: ${spill}`);
    assert.equal(limit, '512.0 MiB', 'LAKE_MEMORY_LIMIT_MB is the limit');
    assert.equal(clients.duckdb.open, true);
    await clients.close();
    assert.equal(clients.duckdb.open, false);
    assert.equal(existsSync(spill), false, 'its spill directory is removed');
    await assert.rejects(clients.duckdb.connect(), /closed/);
  });
});
