// A stream of the user's own, end to end, as a user runs it: declared in a folder outside the
// repository (a text key, a decimal, a timestamp, an accepted-values column), its tables made by
// `etl migrate`, fed by a plain kafkajs producer and by `etl ingest files` on a CSV file, carried
// by a real `etl worker` process with pass threads, and read back from PostgreSQL, the Parquet lake
// (DuckDB and pyarrow, from PyPI), the search index and `etl lineage`. Then the declaration gains a
// column: `etl migrate` adds it, the worker restarts with it, `etl replay` fills it for the rows
// already loaded and rewrites their lake files, which old and new files read together by name; a
// narrowing is refused by `etl migrate` with the table unchanged.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client as SearchClient } from '@opensearch-project/opensearch';
import { Kafka, logLevel } from 'kafkajs';
import { buildClients, type Clients } from '../../lib/clients';
import { loadConfig, PROJECT_ROOT, type Config } from '../../lib/config';
import { aliasName, createSearchClient } from '../../lib/search';
import { searchLag } from '../../lib/search-state';
import { useStreamsDir } from '../../streams';
import { declarationsDir, type DeclarationsDir } from '../support/declarations';
import { configEnv, isolatedConfig, removeIsolated } from '../support/isolation';
import { canonicalFlatRows, readLakeCopy, readLakeUnion, type CanonicalRow } from '../support/lake-readers';
import { dropTestIndexes, endSearchLane } from '../support/search';

// ---- the user's declaration; version 2 adds a column the records carried all along ----
const declaration = (probe: string, o: { channel?: boolean; total?: string } = {}) => `
import { appendFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { defineStream, z } from 'etl-temporal/define';

// The test's probe, not part of a declaration: which processes and threads loaded this module.
appendFileSync(${JSON.stringify(probe)}, (isMainThread ? 'main' : 'thread') + '\\n');

const STATUSES = ['placed', 'paid', 'shipped', 'cancelled'] as const;

export default defineStream({
  name: 'shop_orders',
  schema: z.looseObject({
    order_ref: z.string().regex(/^ORD-[0-9]{6}$/),
    placed_at: z.iso.datetime({ offset: true }),
    total: z.number().nonnegative().max(1_000_000),
    status: z.enum(STATUSES),
    customer: z.string().trim().min(1).max(80),${o.channel ? `\n    channel: z.string().max(20).nullish(),` : ''}
  }),
  enrich: (o) => ({
    order_ref: o.order_ref,
    placed_at: o.placed_at,
    total: o.total.toFixed(2),
    status: o.status,
    customer: o.customer,${o.channel ? `\n    channel: o.channel ?? null,` : ''}
  }),
  rawTable: 'raw_shop_orders',
  flatTable: 'shop_orders_flat',
  key: { name: 'order_ref', type: 'text' },
  eventTimeColumn: 'placed_at',
  columns: [
    { name: 'placed_at', type: 'timestamptz', notNull: true },
    { name: 'total', type: '${o.total ?? 'numeric(12,2)'}', notNull: true },
    { name: 'status', type: 'text', notNull: true, acceptedValues: STATUSES },
    { name: 'customer', type: 'text', notNull: true },${o.channel ? `\n    { name: 'channel', type: 'text' },` : ''}
  ],
  search: {},
});
`;
// ---- end of the declaration ----

const STREAM = 'shop_orders';
const FLAT = 'shop_orders_flat';
const KAFKA_ORDERS = 300;
const CSV_ORDERS = 120;
const STATUSES = ['placed', 'paid', 'shipped', 'cancelled'];
const CHANNELS = ['web', 'app', 'store'];
// Kafka's orders on one UTC day, the file's on the next: the replay window takes only the first.
const KAFKA_DAY = Date.parse('2026-11-02T00:00:00Z');
const CSV_DAY = Date.parse('2026-11-03T00:00:00Z');

interface Order {
  order_ref: string;
  placed_at: string;
  total: number;
  status: string;
  customer: string;
  channel: string;
}
const order = (i: number, day: number): Order => ({
  order_ref: `ORD-${String(i + 1).padStart(6, '0')}`,
  placed_at: new Date(day + i * 137_000 + (i % 1000)).toISOString().replace('Z', '+00:00'),
  total: ((i * 7919) % 250_000) / 100,
  status: STATUSES[i % STATUSES.length]!,
  customer: `customer ${i % 17}, "${i % 3 ? 'retail' : 'trade'}"`,
  channel: CHANNELS[i % CHANNELS.length]!,
});
const kafkaOrders = Array.from({ length: KAFKA_ORDERS }, (_, i) => order(i, KAFKA_DAY));
const csvOrders = Array.from({ length: CSV_ORDERS }, (_, i) => order(KAFKA_ORDERS + i, CSV_DAY));
const csvCell = (v: string | number) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
const CSV =
  'order_ref,placed_at,total,status,customer,channel\n' +
  csvOrders.map((o) => [o.order_ref, o.placed_at, o.total, o.status, o.customer, o.channel].map(csvCell).join(',')).join('\n') +
  '\n';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('a stream of your own, end to end through the CLI and a worker', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'etl-own-stream-'));
  const PROBE = path.join(work, 'loaded-on');
  const folder: DeclarationsDir = declarationsDir({ 'shop_orders.ts': declaration(PROBE) });
  let config: Config;
  let clients: Clients;
  let search: SearchClient;
  let worker: ChildProcess | undefined;
  let workerLog = '';

  const etl = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        path.join(PROJECT_ROOT, 'bin', 'etl'),
        args,
        { env: { ...process.env, ...configEnv(config) }, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
    });
  const etlJson = async <T>(...args: string[]): Promise<T> => {
    const r = await etl(...args, '--json');
    assert.equal(r.code, 0, `etl ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };

  /** `etl worker` with the folder as it is now; resolves once it has prepared the servers and polls. */
  const startWorker = async () => {
    workerLog = '';
    const child = spawn(path.join(PROJECT_ROOT, 'bin', 'etl'), ['worker'], {
      env: { ...process.env, ...configEnv(config), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    worker = child;
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        workerLog += d.toString();
        if (workerLog.includes('worker started')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`etl worker exited (${code}) before it started: ${workerLog.slice(-2000)}`)));
    });
  };
  const stopWorker = async () => {
    const child = worker;
    worker = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  };

  const flatRows = () => canonicalFlatRows(clients.pool, FLAT, 'order_ref');
  const byKey = (rows: CanonicalRow[]) =>
    rows
      .map(({ event_date: _partition, ...r }) => r)
      .sort((a, b) => (a.order_ref! < b.order_ref! ? -1 : a.order_ref! > b.order_ref! ? 1 : 0));
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
    for (let i = 0; i < 600; i++) {
      const v = await probe();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`gave up waiting for ${what}`);
  };
  /** Every flat row indexed (no object behind, none refused), then the documents by key. */
  const indexedDocs = async (): Promise<Map<string, Record<string, unknown>>> => {
    const alias = aliasName(config, STREAM);
    const flat = (await clients.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${FLAT}`)).rows[0]!.n;
    await waitFor('the search lane to index every row', async () => {
      const lag = await searchLag(clients.pool, STREAM, FLAT);
      assert.equal(
        lag.docsRejected,
        0,
        `documents refused: ${JSON.stringify(await etlJson('search', 'rejected', '--stream', STREAM, '--limit', '2'))}`,
      );
      return lag.rowsBehind === 0 && lag.objectsBehind === 0 ? true : undefined;
    });
    await search.indices.refresh({ index: alias });
    const res = await search.search({ index: alias, body: { size: 10_000, query: { match_all: {} } } });
    const hits = (res.body as { hits: { hits: { _id: string; _source: Record<string, unknown> }[] } }).hits.hits;
    assert.equal(hits.length, flat, 'one document per flat row');
    return new Map(hits.map((h) => [h._id, h._source]));
  };

  before(async () => {
    config = isolatedConfig(loadConfig(), 't', `own_${Math.random().toString(16).slice(2, 10)}`, {
      LOG_LEVEL: 'error',
      ETL_STREAMS_DIR: folder.dir,
      SEARCH_SINK: true,
      TRANSFORM_THREADS: 2,
      FILE_SOURCE_ROOTS: [work],
    });
    // This process removes what the run made (the stream's topic among them) from the same set.
    useStreamsDir(folder.dir);
    clients = buildClients(config);
    search = createSearchClient(config);
    mkdirSync(path.join(work, 'landing'));
    writeFileSync(path.join(work, 'landing', 'orders-2026-11-03.csv'), CSV);
  });
  after(async () => {
    try {
      await stopWorker();
      await endSearchLane(clients, STREAM);
      await dropTestIndexes(clients, search, STREAM);
      await search?.close();
      if (clients) {
        const failed = await removeIsolated(clients);
        await clients.close();
        assert.deepEqual(failed, []);
      }
    } finally {
      folder.remove();
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('etl migrate makes its tables from the declaration', async () => {
    const r = await etl('migrate');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^stream shop_orders: version 1: tables created$/m);
    const { rows } = await clients.pool.query<{ c: string }>(
      `SELECT column_name || ' ' || data_type AS c FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name IN ('order_ref', 'placed_at', 'total', 'status', 'customer') ORDER BY ordinal_position`,
      [config.PG_SCHEMA, FLAT],
    );
    assert.deepEqual(
      rows.map((r) => r.c),
      ['order_ref text', 'placed_at timestamp with time zone', 'total numeric', 'status text', 'customer text'],
    );
  });

  it('loads Kafka records and a CSV file exactly once, on the pass threads of an etl worker', { timeout: 300_000 }, async () => {
    await startWorker();
    // As a user's producer would: kafkajs, JSON values, one record sent twice (a retry of their own).
    const kafka = new Kafka({ clientId: `${config.KAFKA_CLIENT_ID}-user`, brokers: config.KAFKA_BROKERS, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const topic = `${config.KAFKA_TOPIC_PREFIX}${STREAM}`;
    await producer.send({ topic, messages: kafkaOrders.map((o) => ({ key: o.customer, value: JSON.stringify(o) })) });
    await producer.send({ topic, messages: [{ key: kafkaOrders[7]!.customer, value: JSON.stringify(kafkaOrders[7]) }] });
    await producer.disconnect();

    const run = await etlJson<{
      result: {
        recordsArchived: number;
        rowsInserted: number;
        duplicatesSkipped?: number;
        quarantined: number;
        quality: { passed: boolean };
      };
    }>('run', 'pipeline', '--stream', STREAM, '--wait');
    assert.equal(run.result.recordsArchived, KAFKA_ORDERS + 1);
    assert.equal(run.result.rowsInserted, KAFKA_ORDERS);
    assert.equal(run.result.quarantined, 0);
    assert.equal(run.result.quality.passed, true);

    const files = await etlJson<Record<string, unknown>>('ingest', 'files', STREAM, path.join(work, 'landing'));
    assert.equal(files.loaded, CSV_ORDERS, JSON.stringify(files));
    assert.equal(files.quarantined, 0, JSON.stringify(files));
    const again = await etlJson<Record<string, unknown>>('ingest', 'files', STREAM, path.join(work, 'landing'));
    assert.deepEqual(again.files, {
      seen: 1,
      new: 0,
      changed: 0,
      skippedAlreadyLoaded: 1,
      resumed: 0,
      unsupported: 0,
      unreadable: 0,
      failed: 0,
    });
    assert.equal(again.loaded, 0);

    const { rows: counts } = await clients.pool.query(
      `SELECT (SELECT count(*)::int FROM ${FLAT}) AS flat, (SELECT count(DISTINCT order_ref)::int FROM ${FLAT}) AS keys,
              (SELECT count(*)::int FROM raw_shop_orders) AS raw, (SELECT count(*)::int FROM quarantine) AS quarantined`,
    );
    assert.deepEqual(counts, [
      { flat: KAFKA_ORDERS + CSV_ORDERS, keys: KAFKA_ORDERS + CSV_ORDERS, raw: KAFKA_ORDERS + CSV_ORDERS, quarantined: 0 },
    ]);
    const { rows } = await clients.pool.query<Record<string, string>>(
      `SELECT order_ref, to_char(placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"+00:00"') AS placed_at, total::text AS total, status, customer
       FROM ${FLAT} ORDER BY order_ref`,
    );
    assert.deepEqual(
      rows,
      [...kafkaOrders, ...csvOrders].map((o) => ({
        order_ref: o.order_ref,
        placed_at: o.placed_at,
        total: o.total.toFixed(2),
        status: o.status,
        customer: o.customer,
      })),
    );
    // The worker's passes ran on its threads: only a pass thread loads the declarations off the main thread.
    assert.match(readFileSync(PROBE, 'utf8'), /^thread$/m);
  });

  it('holds the same rows in the Parquet lake, read by DuckDB and pyarrow', async () => {
    const copy = path.join(work, 'lake-v1');
    await etlJson('lake', 'export', STREAM, copy, '--from', '2026-11-02', '--to', '2026-11-03');
    const reading = readLakeCopy(copy);
    const flat = await flatRows();
    assert.equal(flat.length, KAFKA_ORDERS + CSV_ORDERS);
    assert.deepEqual(byKey(reading.duckdb), flat);
    assert.deepEqual(byKey(reading.pyarrow), flat);
    assert.equal(reading.schema.total, 'decimal128(12, 2)');
    assert.equal(reading.schema.placed_at, 'timestamp[us, tz=UTC]');
  });

  it('holds the same rows in the search index', async () => {
    const docs = await indexedDocs();
    const { rows } = await clients.pool.query<Record<string, string>>(
      `SELECT order_ref, to_char(placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS placed_at, total::text AS total, status, customer FROM ${FLAT}`,
    );
    for (const r of rows) {
      const d = docs.get(r.order_ref!);
      assert.ok(d, `${r.order_ref} indexed`);
      assert.deepEqual(
        { order_ref: d.order_ref, placed_at: d.placed_at, total: String(d.total), status: d.status, customer: d.customer },
        r,
      );
    }
  });

  it('etl lineage resolves a Kafka row and a file row by the text key', async () => {
    const fromKafka = await etlJson<{ loaded: { kafka: { topic: string; partition: number; offset: string } } }>(
      'lineage',
      'ORD-000008',
      '--stream',
      STREAM,
    );
    assert.equal(fromKafka.loaded.kafka.topic, `${config.KAFKA_TOPIC_PREFIX}${STREAM}`);
    const fromFile = await etl('lineage', csvOrders[4]!.order_ref, '--stream', STREAM);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.match(fromFile.stdout, /orders-2026-11-03\.csv .*line 6/);
  });

  it(
    'a column added to the declaration: etl migrate adds it, etl replay fills it, the lake reads old and new files by name',
    { timeout: 300_000 },
    async () => {
      folder.write('shop_orders.ts', declaration(PROBE, { channel: true }));
      const migrated = await etl('migrate');
      assert.equal(migrated.code, 0, migrated.stderr);
      assert.match(migrated.stdout, /^stream shop_orders: version 2: added channel text$/m);
      await stopWorker();
      await startWorker();

      const replay = await etlJson<{ result: { objectsDone: number; updated: number; inserted: number; quality: { passed: boolean } } }>(
        'replay',
        '--stream',
        STREAM,
        '--from',
        '2026-11-02T00:00:00Z',
        '--to',
        '2026-11-03T00:00:00Z',
      );
      assert.equal(replay.result.updated, KAFKA_ORDERS, JSON.stringify(replay.result));
      assert.equal(replay.result.inserted, 0);
      assert.equal(replay.result.quality.passed, true);
      const { rows } = await clients.pool.query<{ order_ref: string; channel: string | null }>(
        `SELECT order_ref, channel FROM ${FLAT} ORDER BY order_ref`,
      );
      assert.deepEqual(
        rows,
        [
          ...kafkaOrders.map((o) => ({ order_ref: o.order_ref, channel: o.channel })),
          ...csvOrders.map((o) => ({ order_ref: o.order_ref, channel: null })),
        ],
        "the window's rows filled from bronze, the file's (outside it) not yet",
      );

      const copy = path.join(work, 'lake-v2');
      await etlJson('lake', 'export', STREAM, copy, '--from', '2026-11-02', '--to', '2026-11-03');
      const union = readLakeUnion(copy);
      const withColumn = union.files.filter((f) => f.columns.includes('channel'));
      assert.ok(withColumn.length > 0 && withColumn.every((f) => f.file.includes('event_date=2026-11-02')), 'the rewritten files carry it');
      assert.ok(
        union.files.some((f) => !f.columns.includes('channel')),
        "the file's day keeps its old files",
      );
      const flat = await flatRows();
      assert.deepEqual(byKey(union.duckdb), flat, 'DuckDB union_by_name reads old and new files as the table');
      assert.deepEqual(byKey(union.pyarrow), flat, 'pyarrow with the unified schema reads them as the table');

      const docs = await indexedDocs();
      for (const o of kafkaOrders.slice(0, 20)) assert.equal(docs.get(o.order_ref)?.channel, o.channel);
    },
  );

  it('a narrowing is refused by etl migrate, the table unchanged', async () => {
    const columns = async () =>
      (
        await clients.pool.query<{ c: string }>(
          `SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod) AS c FROM pg_attribute a
           WHERE a.attrelid = format('%I.%I', $1::text, $2::text)::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
          [config.PG_SCHEMA, FLAT],
        )
      ).rows.map((r) => r.c);
    const before = await columns();
    folder.write('shop_orders.ts', declaration(PROBE, { channel: true, total: 'numeric(8,2)' }));
    const r = await etl('migrate');
    folder.write('shop_orders.ts', declaration(PROBE, { channel: true }));
    assert.equal(r.code, 1, r.stdout);
    assert.equal(
      r.stderr.trim(),
      'error [STREAM_SCHEMA_REFUSED]: stream shop_orders: column total numeric(12,2) -> total numeric(8,2) is not a widening; nothing was changed. Change the table with a numbered migration of your own first, or declare it back',
    );
    assert.deepEqual(await columns(), before);
    const history = await etlJson<{ version: number }[]>('stream', 'history', STREAM);
    assert.deepEqual(
      history.map((v) => v.version),
      [1, 2],
    );
  });
});
