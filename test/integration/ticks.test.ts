// Market ticks through the unchanged pipeline workflow: raw and flat rows, quarantine reasons, and
// candles that always equal a direct aggregation of ticks_flat — after late and out-of-order ticks,
// after replays from bronze (with the same and with changed rules), and when two loads commit ticks
// of the same minute at the same time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RecordMetadata } from 'kafkajs';
import { createActivities, type IngestResult, type QualityResult } from '../../activities';
import { replayBronzeObject, type ReplayObjectResult } from '../../activities/replay/replay';
import { lakeSync } from '../../client/commands/lake';
import type { BronzeRecord } from '../../lib/lake';
import { readNdjsonObject } from '../../lib/ndjson';
import { createStaging, mergeStaging } from '../../activities/transform-load/staging';
import { classifyRecord, silverDoc } from '../../streams/classify';
import { ticksStream, validateTick } from '../../streams/ticks';
import { decimalString } from '../../streams/ticks/enrich';
import { profileOf } from '../../streams/ticks/profiles';
import { tickId, type TickEvent } from '../../streams/ticks/schema';
import { simulateTicks, type SimulatorOptions } from '../../streams/ticks/simulator';
import type { StreamSpec } from '../../streams/types';
import type { PipelineResult, ReplayResult } from '../../workflows';
import { recentRegularSessionStart } from '../support/sessions';
import { isolatedEnv, runPipeline, withWorker, type TestEnv } from '../support/harness';
import { activityEnv } from '../support/activity-env';

const ROWS = 6_000;
const MINUTE = 60_000;
// In a regular session of the stock, whenever the test runs: a window ending "now" held no AAPL
// tick at all on a run at 07:10 UTC.
const sim: SimulatorOptions = {
  seed: 21,
  symbols: ['AAPL', 'BTC-USD', 'ETH-USD'],
  startMs: recentRegularSessionStart(),
  intervalMs: 2_000,
};
const generated = (() => {
  const it = simulateTicks(sim);
  return Array.from({ length: ROWS }, () => it.next().value as TickEvent);
})();

/** Candles of one width against the same aggregation computed straight from ticks_flat. */
const BUCKETS = { '1m': ['minute', 'candles_1m'], '1h': ['hour', 'candles_1h'], '1d': ['day', 'candles_1d'] } as const;
async function candleMismatches(
  env: TestEnv,
  width: keyof typeof BUCKETS,
): Promise<{ n: number; candles: number; examples: string[] | null }> {
  const [unit, table] = BUCKETS[width];
  const { rows } = await env.pool.query<{ n: number; candles: number; examples: string[] | null }>(
    `
    WITH direct AS (
      SELECT symbol, source, date_trunc($1, event_ts, 'UTC') AS bucket_start,
             (array_agg(price ORDER BY event_ts))[1] AS open, max(price) AS high, min(price) AS low,
             (array_agg(price ORDER BY event_ts DESC))[1] AS close, sum(volume) AS volume, count(*)::int AS tick_count,
             min(event_ts) AS first_tick_ts, max(event_ts) AS last_tick_ts
      FROM ticks_flat GROUP BY 1, 2, 3
    )
    SELECT count(*) FILTER (WHERE (d.open, d.high, d.low, d.close, d.volume, d.tick_count, d.first_tick_ts, d.last_tick_ts)
                                  IS DISTINCT FROM (c.open, c.high, c.low, c.close, c.volume, c.tick_count, c.first_tick_ts, c.last_tick_ts))::int AS n,
           count(c.symbol)::int AS candles,
           (array_agg(symbol || ' ' || bucket_start::text) FILTER (WHERE (d.open, d.high, d.low, d.close, d.volume, d.tick_count)
                                  IS DISTINCT FROM (c.open, c.high, c.low, c.close, c.volume, c.tick_count)))[1:5] AS examples
    FROM direct d FULL JOIN ${table} c USING (symbol, source, bucket_start)`,
    [unit],
  );
  return rows[0]!;
}

async function assertCandlesEqualTicks(env: TestEnv, when: string): Promise<void> {
  for (const width of ['1m', '1h', '1d'] as const) {
    const m = await candleMismatches(env, width);
    assert.equal(m.n, 0, `${when}: ${width} candles differ from ticks_flat: ${JSON.stringify(m.examples)}`);
    assert.ok(m.candles > 0, `${when}: ${width} candles exist`);
  }
}

const candlesFingerprint = async (env: TestEnv) =>
  (
    await env.pool.query<{ h: string }>(
      "SELECT md5(string_agg((to_jsonb(c) - 'updated_at')::text, '|' ORDER BY symbol, source, bucket_start)) AS h FROM candles_1m c",
    )
  ).rows[0]!.h;

interface Hostile {
  name: string;
  value: Buffer | null;
  code: string;
  meta?: RecordMetadata;
}

describe('ticks stream end to end', () => {
  let env: TestEnv;
  let first: PipelineResult;
  const good = generated[0]!;
  const ownId = (n: number) => `7a1c1c52-0000-5000-8000-00000000000${n}`;
  const hostile: Hostile[] = [
    { name: 'malformed JSON', value: Buffer.from('{"tick_id": "7a1c'), code: 'MALFORMED_JSON' },
    { name: 'null value', value: null, code: 'NULL_VALUE' },
    { name: 'missing price', value: Buffer.from(JSON.stringify({ ...good, tick_id: ownId(1), price: undefined })), code: 'MISSING_FIELD' },
    { name: 'price as text', value: Buffer.from(JSON.stringify({ ...good, tick_id: ownId(2), price: '187.2' })), code: 'WRONG_TYPE' },
    { name: 'negative price', value: Buffer.from(JSON.stringify({ ...good, tick_id: ownId(3), price: -4 })), code: 'INVALID_VALUE' },
    {
      name: 'unknown source',
      value: Buffer.from(JSON.stringify({ ...good, tick_id: ownId(4), source: 'bloomberg' })),
      code: 'UNKNOWN_VALUE',
    },
    {
      name: 'tick from the future',
      value: Buffer.from(JSON.stringify({ ...good, tick_id: ownId(5), event_ts: new Date(Date.now() + 6 * 3_600_000).toISOString() })),
      code: 'INVALID_VALUE',
    },
  ];
  // The same tick id with another price: the first stays, this one is quarantined by the load.
  const conflicting = { ...generated[7]!, price: generated[7]!.price + 1 };

  before(async () => {
    env = await isolatedEnv('ticks', { ARCHIVE_MAX_RECORDS_PER_OBJECT: 700, ARCHIVE_MAX_OBJECTS_PER_ACTIVITY: 3 });
    // The simulated ticks come through the ingest workflow, as `etl produce ticks` would send them.
    const ingested = await withWorker(
      env,
      (client) =>
        client.workflow.execute('ingestWorkflow', {
          taskQueue: env.config.TEMPORAL_TASK_QUEUE,
          workflowId: `ingest-ticks-${env.id}`,
          args: [{ stream: 'ticks', rows: ROWS, ...sim }],
        }) as Promise<IngestResult>,
    );
    assert.deepEqual(ingested, { produced: ROWS, topic: env.topic('ticks') });
    const producer = env.kafka.producer();
    await producer.connect();
    for (const h of hostile)
      [h.meta] = await producer.send({ topic: env.topic('ticks'), messages: [{ key: 'other-team', value: h.value }] });
    await producer.send({
      topic: env.topic('ticks'),
      messages: [generated[5]!, conflicting].map((t) => ({ key: t.symbol, value: JSON.stringify(t) })),
    });
    await producer.disconnect();
    first = await runPipeline(env, `pipeline-ticks-1-${env.id}`, 'ticks');
  });
  after(async () => env?.cleanup());

  it('loads every valid tick once into raw_ticks and ticks_flat, derived as the stream declares', async () => {
    const {
      rows: [n],
    } = await env.pool.query<{ raw: number; flat: number }>(
      'SELECT (SELECT count(*)::int FROM raw_ticks) AS raw, (SELECT count(*)::int FROM ticks_flat) AS flat',
    );
    assert.deepEqual(n, { raw: ROWS, flat: ROWS });
    assert.equal(first.rowsInserted, ROWS);
    assert.equal(first.duplicates, 1);
    assert.equal(first.recordsArchived, ROWS + hostile.length + 2);
    assert.equal(first.quality.passed, true, JSON.stringify(first.quality.checks.filter((c) => !c.passed)));
    assert.ok(first.quality.checks.some((c) => c.name === 'accepted_values_session'));
    for (const t of [generated[0]!, generated[1_234]!, generated[ROWS - 1]!]) {
      const r = validateTick(t, { referenceTimeMs: Date.parse(t.event_ts) });
      assert.ok(r.ok);
      const { rows } = await env.pool.query(
        `SELECT tick_id::text, symbol, source, asset_class, to_char(event_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS event_ts,
                event_date::text, event_hour, event_dayofweek, to_char(minute_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS minute_ts,
                session, trim_scale(price)::text AS price, trim_scale(volume)::text AS volume, currency, exchange
         FROM ticks_flat WHERE tick_id = $1`,
        [t.tick_id],
      );
      assert.deepEqual(rows[0], r.row);
    }
  });

  it("publishes each symbol's ticks keyed by symbol (one partition, in order), with the event time as Kafka timestamp", async () => {
    const { rows: partitions } = await env.pool.query<{ symbol: string; n: number }>(
      'SELECT symbol, count(DISTINCT kafka_partition)::int AS n FROM ticks_flat GROUP BY symbol',
    );
    assert.deepEqual(
      partitions.map((p) => p.n),
      sim.symbols.map(() => 1),
    );
    const {
      rows: [object],
    } = await env.pool.query<{ key: string }>("SELECT object_key AS key FROM bronze_objects WHERE stream = 'ticks' ORDER BY id LIMIT 1");
    let checked = 0;
    const lastBySymbol = new Map<string, number>();
    for await (const line of readNdjsonObject(env.s3, env.config.S3_BUCKET, object!.key)) {
      const record = JSON.parse(line) as BronzeRecord;
      const t = JSON.parse(record.value!) as TickEvent;
      assert.equal(record.key, t.symbol);
      assert.equal(Date.parse(record.timestamp), Date.parse(t.event_ts));
      assert.ok(Date.parse(t.event_ts) > (lastBySymbol.get(t.symbol) ?? 0), `${t.symbol} in event-time order at offset ${record.offset}`);
      lastBySymbol.set(t.symbol, Date.parse(t.event_ts));
      checked++;
    }
    assert.ok(checked > 100);
  });

  it('quarantines hostile ticks with their reasons, and the conflicting duplicate', async () => {
    const { rows } = await env.pool.query<{ reason_code: string; kafka_partition: number; kafka_offset: string }>(
      "SELECT reason_code, kafka_partition, kafka_offset FROM quarantine WHERE stream = 'ticks'",
    );
    assert.equal(rows.length, hostile.length + 1);
    for (const h of hostile) {
      const row = rows.find((r) => r.kafka_partition === h.meta!.partition && r.kafka_offset === h.meta!.baseOffset);
      assert.equal(row?.reason_code, h.code, h.name);
    }
    assert.equal(rows.filter((r) => r.reason_code === 'CONFLICTING_DUPLICATE').length, 1);
    const {
      rows: [kept],
    } = await env.pool.query<{ price: string }>('SELECT trim_scale(price)::text AS price FROM ticks_flat WHERE tick_id = $1', [
      conflicting.tick_id,
    ]);
    assert.equal(kept!.price, decimalString(generated[7]!.price, 8), 'the first version stays');
  });

  it('keeps 1m candles, and the 1h and 1d views, equal to an aggregation of ticks_flat', async () => {
    await assertCandlesEqualTicks(env, 'after the first load');
    const {
      rows: [c],
    } = await env.pool.query<{ ticks: number }>('SELECT sum(tick_count)::int AS ticks FROM candles_1m');
    assert.equal(c!.ticks, ROWS);
  });

  it('late and out-of-order ticks in loaded minutes update those candles', async () => {
    // Every 7th candle gets a tick before its first (a new open and low), one after its last (a new
    // close and high) and one in between; they are sent newest first, interleaved across symbols.
    const { rows: candles } = await env.pool.query<{
      symbol: string;
      bucket: Date;
      first: Date;
      last: Date;
      high: string;
      low: string;
      ticks: number;
    }>(
      `SELECT symbol, bucket_start AS bucket, first_tick_ts AS first, last_tick_ts AS last, high::text, low::text, tick_count AS ticks FROM candles_1m
       WHERE first_tick_ts > bucket_start + interval '2 ms' AND last_tick_ts < bucket_start + interval '59998 ms' AND tick_count >= 2
       ORDER BY symbol, bucket_start`,
    );
    const chosen = candles.filter((_, i) => i % 7 === 0);
    assert.ok(chosen.length >= 20, `${chosen.length} candles to make late`);
    const { rows: taken } = await env.pool.query<{ symbol: string; ms: string }>(
      'SELECT symbol, (extract(epoch FROM event_ts) * 1000)::bigint::text AS ms FROM ticks_flat',
    );
    const used = new Set(taken.map((t) => `${t.symbol}@${t.ms}`));
    const tick = (symbol: string, ms: number, price: number): TickEvent => ({
      tick_id: tickId('simulator', symbol, ms),
      symbol,
      source: 'simulator',
      asset_class: profileOf(symbol).assetClass,
      event_ts: new Date(ms).toISOString(),
      price: Math.round(price * 100) / 100,
      volume: 3,
      currency: 'USD',
      exchange: profileOf(symbol).exchange,
    });
    const late: TickEvent[] = [];
    const expected = new Map<string, { open: number; close: number; ticks: number }>();
    for (const c of chosen) {
      const before = c.bucket.getTime() + Math.floor((c.first.getTime() - c.bucket.getTime()) / 2);
      const afterLast = c.last.getTime() + Math.ceil((c.bucket.getTime() + MINUTE - c.last.getTime()) / 2);
      let middle = c.first.getTime() + 1;
      while (used.has(`${c.symbol}@${middle}`)) middle++;
      const opening = tick(c.symbol, before, Number(c.low) * 0.98);
      const closing = tick(c.symbol, Math.min(afterLast, c.bucket.getTime() + MINUTE - 1), Number(c.high) * 1.02);
      late.push(closing, tick(c.symbol, middle, (Number(c.low) + Number(c.high)) / 2), opening);
      expected.set(`${c.symbol}@${c.bucket.toISOString()}`, { open: opening.price, close: closing.price, ticks: c.ticks + 3 });
    }
    late.reverse();
    const producer = env.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: env.topic('ticks'),
      messages: late.map((t) => ({ key: t.symbol, value: JSON.stringify(t), timestamp: String(Date.parse(t.event_ts)) })),
    });
    await producer.disconnect();

    const second = await runPipeline(env, `pipeline-ticks-2-${env.id}`, 'ticks');
    assert.equal(second.rowsInserted, late.length);
    assert.equal(second.quality.passed, true, JSON.stringify(second.quality.checks.filter((c) => !c.passed)));
    await assertCandlesEqualTicks(env, 'after late ticks');
    const { rows: after } = await env.pool.query<{
      symbol: string;
      bucket: Date;
      open: string;
      close: string;
      low: string;
      high: string;
      ticks: number;
    }>(
      `SELECT symbol, bucket_start AS bucket, trim_scale(open)::text AS open, trim_scale(close)::text AS close, trim_scale(low)::text AS low,
              trim_scale(high)::text AS high, tick_count AS ticks
       FROM candles_1m WHERE (symbol, bucket_start) IN (SELECT * FROM unnest($1::text[], $2::timestamptz[]))`,
      [chosen.map((c) => c.symbol), chosen.map((c) => c.bucket)],
    );
    assert.equal(after.length, chosen.length);
    for (const a of after) {
      const e = expected.get(`${a.symbol}@${a.bucket.toISOString()}`)!;
      assert.deepEqual(
        { open: a.open, close: a.close, low: a.low, high: a.high, ticks: a.ticks },
        {
          open: decimalString(e.open, 8),
          close: decimalString(e.close, 8),
          low: decimalString(e.open, 8),
          high: decimalString(e.close, 8),
          ticks: e.ticks,
        },
      );
    }
  });

  it('a replay from bronze keeps the candles; one with changed rules moves them with the re-derived prices', async () => {
    const window = { fromMs: sim.startMs - 86_400_000, toMs: Date.now() + 86_400_000 };
    const unchanged = await candlesFingerprint(env);
    const r = await withWorker(
      env,
      (client) =>
        client.workflow.execute('replayWorkflow', {
          taskQueue: env.config.TEMPORAL_TASK_QUEUE,
          workflowId: `replay-ticks-${env.id}`,
          args: [{ stream: 'ticks', ...window }],
        }) as Promise<ReplayResult>,
    );
    assert.deepEqual({ inserted: r.inserted, updated: r.updated, nowInvalid: r.nowInvalid }, { inserted: 0, updated: 0, nowInvalid: 0 });
    assert.equal(r.quality.passed, true, JSON.stringify(r.quality.checks.filter((c) => !c.passed)));
    assert.equal(await candlesFingerprint(env), unchanged);
    await assertCandlesEqualTicks(env, 'after a replay with the same rules');

    // A rule change that re-derives every price: the candles must follow the updated flat rows.
    const plusOne: StreamSpec = {
      ...ticksStream,
      validate: (v, context) => {
        const res = validateTick(v, context);
        return res.ok ? { ok: true, row: { ...res.row, price: decimalString(Number(res.row.price) + 1, 8) } } : res;
      },
    };
    const replayAll = async (spec: StreamSpec, runKey: string) => {
      const { rows } = await env.pool.query<{ id: number }>("SELECT id::int FROM bronze_objects WHERE stream = 'ticks' ORDER BY id");
      let updated = 0;
      for (const { id } of rows) {
        const res = (await activityEnv().run(replayBronzeObject, env, spec, {
          stream: 'ticks',
          bronzeObjectId: id,
          runKey,
        })) as ReplayObjectResult;
        updated += res.updated;
      }
      return updated;
    };
    const {
      rows: [before],
    } = await env.pool.query<{ flat: number; price: string }>('SELECT count(*)::int AS flat, sum(price)::text AS price FROM ticks_flat');
    assert.equal(await replayAll(plusOne, 'plus-one'), before!.flat);
    await assertCandlesEqualTicks(env, 'after a replay that changed every price');
    const {
      rows: [moved],
    } = await env.pool.query<{ open: string }>('SELECT sum(open)::text AS open FROM candles_1m');
    assert.notEqual(await candlesFingerprint(env), unchanged);

    assert.equal(await replayAll(ticksStream, 'restore'), before!.flat);
    await assertCandlesEqualTicks(env, 'after a replay back to the original rules');
    assert.equal(await candlesFingerprint(env), unchanged);
    const {
      rows: [back],
    } = await env.pool.query<{ price: string; open: string }>(
      'SELECT (SELECT sum(price)::text FROM ticks_flat) AS price, (SELECT sum(open)::text FROM candles_1m) AS open',
    );
    assert.equal(back!.price, before!.price);
    assert.notEqual(back!.open, moved!.open);
    // The replays ran as activities alone: the lake follows, as the replay workflow does after each object.
    const lake = await lakeSync(env, 'ticks');
    assert.deepEqual([lake.objectsFailed, lake.rows], [0, before!.flat]);
    const q = (await activityEnv().run(createActivities(env).quality, {
      stream: 'ticks',
      runId: `replay-check-${env.id}`,
    })) as QualityResult;
    assert.equal(q.passed, true, JSON.stringify(q.checks.filter((c) => !c.passed)));
  });

  it('two loads committing ticks of the same minute at the same time lose no tick', async () => {
    // A minute no tick has touched yet, a month back; each load brings ticks of its own.
    const bucket = Math.floor((Date.now() - 30 * 86_400_000) / MINUTE) * MINUTE;
    const [A_TICKS, B_FIRST, B_TICKS, BASE_PRICE] = [40, 100, 25, 60_000];
    const docsFor = (offset: number, count: number) =>
      Array.from({ length: count }, (_, i) => {
        const ms = bucket + 1_000 + (offset + i) * 97;
        const value = JSON.stringify({
          ...generated[0]!,
          symbol: 'BTC-USD',
          asset_class: 'crypto',
          tick_id: tickId('simulator', 'BTC-USD', ms),
          event_ts: new Date(ms).toISOString(),
          price: BASE_PRICE + offset + i,
        });
        const record = {
          topic: 'concurrency-test',
          partition: 0,
          offset: String(offset + i),
          timestamp: String(ms),
          key: null,
          value,
          encoding: 'utf8' as const,
        };
        const r = classifyRecord(ticksStream, record, { referenceTimeMs: ms });
        assert.ok(r.ok);
        return JSON.stringify(silverDoc(r.row, record));
      });
    const a = await env.pool.connect();
    const b = await env.pool.connect();
    try {
      const start = async (client: typeof a, docs: string[]) => {
        await client.query('BEGIN');
        await createStaging(client);
        await client.query('INSERT INTO staging (doc) SELECT unnest($1::jsonb[])', [docs]);
        const {
          rows: [load],
        } = await client.query<{ load_id: string }>(
          "INSERT INTO loads (kind, stream, silver_key, rows_in, inserted_count, duplicate_count) VALUES ('replay', 'ticks', 'concurrency-test', $1, $1, 0) RETURNING load_id",
          [docs.length],
        );
        return { stream: 'ticks', loadId: Number(load!.load_id), bronzeObjectId: null };
      };
      const targetA = await start(a, docsFor(0, A_TICKS));
      const targetB = await start(b, docsFor(B_FIRST, B_TICKS));
      const pid = (await b.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await mergeStaging(a, ticksStream, targetA); // inserted its ticks and holds the candle lock
      const merging = mergeStaging(b, ticksStream, targetB);
      for (;;) {
        // until b waits for a lock a holds, its own ticks inserted by then
        const {
          rows: [w],
        } = await env.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
          [pid],
        );
        if (w!.n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await a.query('COMMIT');
      await merging;
      await b.query('COMMIT');
    } finally {
      a.release();
      b.release();
    }
    const {
      rows: [c],
    } = await env.pool.query<{ ticks: number; open: string; close: string }>(
      "SELECT tick_count AS ticks, trim_scale(open)::text AS open, trim_scale(close)::text AS close FROM candles_1m WHERE symbol = 'BTC-USD' AND bucket_start = $1",
      [new Date(bucket)],
    );
    // Ticks are numbered by time across both loads: a's come first, b's last.
    assert.deepEqual(c, { ticks: A_TICKS + B_TICKS, open: String(BASE_PRICE), close: String(BASE_PRICE + B_FIRST + B_TICKS - 1) });
    await assertCandlesEqualTicks(env, 'after two concurrent loads');
  });
});
