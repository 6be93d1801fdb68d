// `etl stream init` as a user runs it (a child process): on a JSONL sample and on a CSV sample it
// writes a declaration into ETL_STREAMS_DIR, refuses to overwrite it without --force (exit 2, one
// line), and the stream the written module declares takes its own sample through the real
// pipeline — the JSONL through Kafka, the CSV through the file source — with nothing quarantined.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { filesInput } from '../../client/commands/ingest-files';
import type { InitSummary } from '../../client/commands/stream-init';
import { PROJECT_ROOT } from '../../lib/config';
import { getStream, streamTopics, useStreamsDir } from '../../streams';
import { setupAll } from '../../lib/setup';
import type { StreamSpec } from '../../streams/types';
import type { PipelineResult, SourceResult } from '../../workflows';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';
import { configEnv } from '../support/isolation';

const QUOTES = 300;
const TRADES = 200;
const at = (i: number) => new Date(Date.UTC(2026, 10, 20, 8, 0, 0) + i * 1_000).toISOString();
const PAIRS = ['EURUSD', 'GBPUSD', 'USDJPY'];

// FX quotes as a producer might send them: an integer id, decimals, a venue only some carry, nested metadata.
const quoteLines = Array.from({ length: QUOTES }, (_, i) =>
  JSON.stringify({
    quoteId: 10_000 + i,
    pair: PAIRS[i % 3],
    bid: Number((1.0501 + (i % 50) / 1000).toFixed(4)),
    ask: Number((1.0503 + (i % 50) / 1000).toFixed(4)),
    quotedAt: new Date(Date.UTC(2026, 10, 20, 8, 0, 0) + i * 1_000).toISOString().replace('Z', '+00:00'),
    venue: i % 4 ? 'lmax' : null,
    meta: { feed: 'a', seq: i },
  }),
);

// Trades as a CSV export: a text id, a decimal kept as written, a boolean in upper case, an empty optional cell.
const tradesCsv = [
  'Trade ID,side,price,quantity,executed at,is_block,note',
  ...Array.from(
    { length: TRADES },
    (_, i) =>
      `T-${String(i).padStart(5, '0')},${i % 2 ? 'buy' : 'sell'},${(101 + (i % 40) * 0.25).toFixed(2)},${1 + (i % 9)},${at(i)},${i % 10 ? 'FALSE' : 'TRUE'},${i % 5 ? '' : '"checked, twice"'}`,
  ),
].join('\n');

describe('etl stream init', () => {
  let env: TestEnv;
  let dir: string;
  let streamsDir: string;
  const etl = (args: string[]) =>
    promisify(execFile)(path.join(PROJECT_ROOT, 'bin', 'etl'), args, {
      encoding: 'utf8',
      cwd: dir,
      env: { ...process.env, ...configEnv(env.config), ETL_STREAMS_DIR: 'my-streams' },
    });
  const init = async (args: string[]) => JSON.parse((await etl(['stream', 'init', ...args, '--json'])).stdout) as InitSummary;

  /** Loads the folder the way every process does (ETL_STREAMS_DIR), and makes the stream's topic and tables as the worker's setup does. */
  const adopt = async (name: string): Promise<StreamSpec> => {
    env.config.ETL_STREAMS_DIR = streamsDir;
    useStreamsDir(streamsDir);
    await setupAll(env, streamTopics(env.config.KAFKA_TOPIC_PREFIX));
    return getStream(name);
  };

  before(async () => {
    env = await isolatedEnv('init');
    dir = await mkdtemp(path.join(tmpdir(), 'etl-stream-init-'));
    streamsDir = path.join(dir, 'my-streams');
    await writeFile(path.join(dir, 'quotes.jsonl'), `${quoteLines.join('\n')}\n`);
    await writeFile(path.join(dir, 'trades.csv'), `${tradesCsv}\n`);
  });
  after(async () => {
    try {
      await env?.cleanup(); // while the streams are loaded: their topics go with the env's
    } finally {
      useStreamsDir(undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('drafts a JSONL sample into ETL_STREAMS_DIR, and the stream it declares loads that sample through Kafka with nothing quarantined', async () => {
    const s = await init(['fx_quotes', '--from', 'quotes.jsonl']);
    assert.equal(s.file, path.join(streamsDir, 'fx_quotes.ts'));
    assert.deepEqual(
      [s.sampled, s.inferredFrom, s.valid, s.quarantined, s.key, s.eventTime],
      [QUOTES, QUOTES, QUOTES, {}, 'quote_id (bigint)', 'quoted_at'],
    );
    const text = await readFile(s.file, 'utf8');
    assert.match(text, /import \{ defineStream, z \} from 'etl-temporal\/define';/);
    assert.match(text, /\{ name: 'pair', type: 'text', notNull: true, acceptedValues: \['EURUSD', 'GBPUSD', 'USDJPY'\] \}/);
    assert.match(text, /\{ name: 'bid', type: 'numeric\(18,4\)', notNull: true \}/);
    assert.match(text, /\{ name: 'venue', type: 'text' \}/);

    const spec = await adopt('fx_quotes');
    const producer = env.kafka.producer();
    await producer.connect();
    await producer.send({ topic: env.topic('fx_quotes'), messages: quoteLines.map((value) => ({ value })) });
    await producer.disconnect();
    // The same records drafted from the topic: the declaration names the topic, without the deployment's prefix.
    const fromTopic = await init(['fx_topic', '--from-topic', env.topic('fx_quotes'), '--sample', '100']);
    assert.deepEqual([fromTopic.sampled, fromTopic.valid, fromTopic.key], [100, 100, 'quote_id (bigint)']);
    assert.match(await readFile(fromTopic.file, 'utf8'), /\n {2}name: 'fx_topic',\n {2}topic: 'fx_quotes',\n/);

    const result = (await withWorker(env, (client) =>
      client.workflow.execute('pipelineWorkflow', {
        taskQueue: env.config.TEMPORAL_TASK_QUEUE,
        workflowId: `pipeline-init-${env.id}`,
        args: [{ stream: spec.name, objectConcurrency: 2 }],
      }),
    )) as PipelineResult;
    assert.deepEqual([result.recordsArchived, result.rowsInserted, result.quarantined], [QUOTES, QUOTES, 0]);
    assert.equal(result.quality.passed, true, JSON.stringify(result.quality.checks.filter((c) => !c.passed)));
    const { rows } = await env.pool.query<{ n: number; bid: string; meta: unknown }>(
      `SELECT count(*)::int AS n, max(bid)::text AS bid, (array_agg(meta ORDER BY quote_id))[1] AS meta FROM fx_quotes_flat`,
    );
    assert.deepEqual(rows[0], { n: QUOTES, bid: '1.0991', meta: { feed: 'a', seq: 0 } });
  });

  it('drafts a CSV sample, and its stream loads that file through the file source with nothing quarantined', async () => {
    const s = await init(['trades', '--from', path.join(dir, 'trades.csv')]);
    assert.deepEqual([s.sampled, s.valid, s.quarantined, s.key, s.eventTime], [TRADES, TRADES, {}, 'trade_id (text)', 'executed_at']);
    const text = await readFile(s.file, 'utf8');
    assert.match(text, /'Trade ID': z\.string\(\),/);
    assert.match(text, /is_block: z\.boolean\(\),/);
    assert.match(text, /note: z\.string\(\)\.nullish\(\),/);
    assert.match(text, /\{ name: 'price', type: 'numeric\(18,2\)', notNull: true \}/);

    const spec = await adopt('trades');
    const result = await withWorker(
      env,
      async (client: Client) =>
        (await client.workflow.execute('sourceWorkflow', {
          taskQueue: env.config.TEMPORAL_TASK_QUEUE,
          workflowId: `files-init-${env.id}`,
          args: [{ ...filesInput(env.config, spec.name, path.join(dir, 'trades.csv')), objectConcurrency: 2 }],
        })) as SourceResult,
    );
    assert.deepEqual([result.recordsArchived, result.rowsInserted, result.quarantined], [TRADES, TRADES, 0]);
    assert.equal(result.quality.passed, true, JSON.stringify(result.quality.checks.filter((c) => !c.passed)));
    const { rows } = await env.pool.query<{ n: number; blocks: number; notes: number; price: string }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE is_block)::int AS blocks, count(note)::int AS notes,
              (SELECT price::text FROM trades_flat WHERE trade_id = 'T-00001') AS price FROM trades_flat`,
    );
    assert.deepEqual(rows[0], { n: TRADES, blocks: TRADES / 10, notes: TRADES / 5, price: '101.25' });
  });

  it('reads its sample from S3 too, gzipped or not, whatever the name says', async () => {
    const key = `${env.config.S3_PREFIX}landing/quotes.jsonl.gz`;
    await env.s3.send(new PutObjectCommand({ Bucket: env.config.S3_BUCKET, Key: key, Body: gzipSync(`${quoteLines.join('\n')}\n`) }));
    const s = await init(['s3_quotes', '--from', `s3://${env.config.S3_BUCKET}/${key}`, '--sample', '50']);
    assert.deepEqual([s.source, s.sampled, s.valid, s.quarantined, s.key], ['quotes.jsonl.gz', 50, 50, {}, 'quote_id (bigint)']);
    await assert.rejects(
      etl(['stream', 'init', 's3_none', '--from', `s3://${env.config.S3_BUCKET}/${key}.missing.jsonl`]),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2, err.stderr);
        assert.match(err.stderr, /no object at s3:\/\/.*\.missing\.jsonl/);
        return true;
      },
    );
  });

  it('refuses to overwrite a declaration without --force (exit 2, one line), and overwrites it with --force', async () => {
    const file = path.join(streamsDir, 'fx_quotes.ts');
    await writeFile(file, '// edited by hand\n', { flag: 'a' });
    const before = await stat(file);
    await assert.rejects(etl(['stream', 'init', 'fx_quotes', '--from', 'quotes.jsonl']), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 2, err.stderr);
      assert.equal(err.stderr.trim().split('\n').length, 1, err.stderr);
      assert.match(err.stderr, /^error \[USAGE\]: .*fx_quotes\.ts exists: review or remove it, or give --force to overwrite it$/m);
      return true;
    });
    assert.equal((await stat(file)).mtimeMs, before.mtimeMs, 'left as it was');
    assert.match(await readFile(file, 'utf8'), /edited by hand/);
    const { stdout } = await etl(['stream', 'init', 'fx_quotes', '--from', 'quotes.jsonl', '--force']);
    assert.match(
      stdout,
      /^wrote .*fx_quotes\.ts: stream fx_quotes, drafted from 300 records of quotes\.jsonl\n {2}key quote_id \(bigint\)/,
    );
    assert.match(stdout, /all 300 sampled records pass its rules/);
    assert.doesNotMatch(await readFile(file, 'utf8'), /edited by hand/);
  });

  it('answers bad input with usage and exit 2', async () => {
    await writeFile(path.join(dir, 'no-time.jsonl'), `${JSON.stringify({ id: 1, at: '2026-11-20 08:00:00' })}\n`);
    for (const [args, message] of [
      [['stream', 'init', 'x', '--from', 'nope.jsonl'], /no file at .*nope\.jsonl/],
      [['stream', 'init', 'x'], /give the sample as one of --from/],
      [['stream', 'init', 'x', '--from', 'quotes.jsonl', '--from-topic', 't'], /give the sample as one of --from/],
      [['stream', 'init', 'Bad-Name', '--from', 'quotes.jsonl'], /is not a stream name/],
      [['stream', 'init', 'x', '--from', 'README'], /cannot tell the format of README/],
      [['stream', 'init', 'x', '--from', 'no-time.jsonl'], /no field holds a timestamp with an offset .*at has times without an offset/],
      [['stream', 'init', 'x', '--from-topic', `${env.config.KAFKA_TOPIC_PREFIX}absent`], /topic ".*absent" does not exist/],
      [['stream', 'init', 'x', '--from', 'quotes.jsonl', '--sample', '0'], /--sample/],
    ] as const) {
      await assert.rejects(etl([...args]), (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2, `${args.join(' ')}: ${err.stderr}`);
        assert.match(err.stderr, message);
        assert.doesNotMatch(err.stderr, /\n\s+at /, 'no stack trace');
        return true;
      });
    }
    await assert.rejects(stat(path.join(streamsDir, 'x.ts')), 'nothing written');
  });
});
