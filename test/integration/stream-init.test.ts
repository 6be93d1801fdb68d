// `etl stream init` end to end, as a user runs it: the real CLI (bin/etl, child processes) with an
// ETL_STREAMS_DIR that does not exist yet drafts a JSONL and a CSV sample into it, as modules that
// pass the project's lint and formatting; a draft whose topic another declaration reads is refused
// in one line, and so, as a set, is a folder holding two of them. Then `etl migrate` makes their
// tables and a real `etl worker` (pass threads on) loads each sample — the JSONL through Kafka, the
// CSV through the file source — with nothing quarantined.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { FilesSummary } from '../../client/commands/ingest-files';
import type { InitSummary } from '../../client/commands/stream-init';
import { PROJECT_ROOT } from '../../lib/config';
import { useStreamsDir } from '../../streams';
import type { PipelineResult } from '../../workflows';
import { isolatedEnv, type TestEnv } from '../support/harness';
import { configEnv } from '../support/isolation';
import { formatted, lintTree } from '../support/lint-probe';

const QUOTES = 300;
const TRADES = 200;
const PAIRS = ['EURUSD', 'GBPUSD', 'USDJPY'];
const at = (i: number) => new Date(Date.UTC(2026, 10, 20, 8, 0, 0) + i * 1_000).toISOString();

// FX quotes as a producer might send them: an integer id, decimals, a venue only some carry, nested metadata.
const quoteLines = Array.from({ length: QUOTES }, (_, i) =>
  JSON.stringify({
    quoteId: 10_000 + i,
    pair: PAIRS[i % 3],
    bid: Number((1.0501 + (i % 50) / 1000).toFixed(4)),
    ask: Number((1.0503 + (i % 50) / 1000).toFixed(4)),
    quotedAt: at(i).replace('Z', '+00:00'),
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

type Failed = { code: number; stderr: string };

describe('etl stream init, end to end through the real CLI', () => {
  let env: TestEnv;
  let dir: string;
  let streamsDir: string;
  let worker: ChildProcess | undefined;
  const childEnv = () => ({ ...process.env, ...configEnv(env.config), ETL_STREAMS_DIR: streamsDir });
  const etl = (args: string[]) =>
    promisify(execFile)(path.join(PROJECT_ROOT, 'bin', 'etl'), args, { encoding: 'utf8', cwd: dir, env: childEnv() });
  const init = async (args: string[]) => JSON.parse((await etl(['stream', 'init', ...args, '--json'])).stdout) as InitSummary;
  /** The one line of a refusal with exit 2. */
  const refusal = async (args: string[]): Promise<string> => {
    let stderr = '';
    await assert.rejects(etl(args), (err: Failed) => {
      assert.equal(err.code, 2, `${args.join(' ')}: ${err.stderr}`);
      stderr = err.stderr;
      return true;
    });
    assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
    return stderr.trimEnd();
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
      if (worker && worker.exitCode === null) {
        const exited = new Promise((resolve) => worker!.once('exit', resolve));
        worker.kill('SIGTERM');
        await exited;
      }
      // This process loads the drafted streams too, so the env's cleanup removes their topics with its own.
      if (existsSync(streamsDir)) useStreamsDir(streamsDir);
      await env?.cleanup();
    } finally {
      useStreamsDir(undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('drafts a JSONL and a CSV sample into an ETL_STREAMS_DIR it makes, as code that passes lint and formatting', async () => {
    assert.equal(existsSync(streamsDir), false);
    const quotes = await init(['fx_quotes', '--from', 'quotes.jsonl']);
    assert.equal(quotes.file, path.join(streamsDir, 'fx_quotes.ts'));
    assert.deepEqual(
      [quotes.sampled, quotes.inferredFrom, quotes.valid, quotes.quarantined, quotes.key, quotes.eventTime],
      [QUOTES, QUOTES, QUOTES, {}, 'quote_id (bigint)', 'quoted_at'],
    );
    const trades = await init(['trades', '--from', path.join(dir, 'trades.csv')]);
    assert.deepEqual(
      [trades.file, trades.sampled, trades.valid, trades.quarantined, trades.key, trades.eventTime],
      [path.join(streamsDir, 'trades.ts'), TRADES, TRADES, {}, 'trade_id (text)', 'executed_at'],
    );
    const texts = [await readFile(quotes.file, 'utf8'), await readFile(trades.file, 'utf8')];
    assert.match(texts[0]!, /\{ name: 'pair', type: 'text', notNull: true, acceptedValues: \['EURUSD', 'GBPUSD', 'USDJPY'\] \}/);
    assert.match(texts[1]!, /'Trade ID': z\.string\(\),/);
    for (const text of texts) assert.equal(await formatted(text), text);
    const tree = lintTree();
    try {
      assert.deepEqual(await tree.problems(texts), []);
    } finally {
      tree.remove();
    }
  });

  it('refuses a second draft of a topic in one line, and a folder holding two of them as a set', async () => {
    const line = await refusal(['stream', 'init', 'fx_again', '--from-topic', `${env.config.KAFKA_TOPIC_PREFIX}fx_quotes`]);
    assert.match(
      line,
      /^error \[USAGE\]: stream fx_again would declare the topic "fx_quotes" that .*\/my-streams\/fx_quotes\.ts declares already: one topic, name and table per stream; draft it under another name, or change that declaration$/,
    );
    assert.match(
      await refusal(['stream', 'init', 'ticks', '--from', 'quotes.jsonl']),
      /stream ticks would declare the stream name "ticks" that .*ticks\.[jt]s declares already/,
    );
    assert.deepEqual((await readdir(streamsDir)).sort(), ['fx_quotes.ts', 'trades.ts'], 'nothing written');

    // Two declarations of one topic, made by hand: no command runs on such a set.
    const copy = path.join(streamsDir, 'fx_copy.ts');
    const text = await readFile(path.join(streamsDir, 'fx_quotes.ts'), 'utf8');
    await writeFile(
      copy,
      text
        .replace("name: 'fx_quotes',", "name: 'fx_copy',\n  topic: 'fx_quotes',")
        .replace(/fx_quotes_flat|raw_fx_quotes/g, (t) => t.replace('fx_quotes', 'fx_copy')),
    );
    try {
      assert.match(
        await refusal(['migrate']),
        /^error \[STREAM_DECLARATION\]: stream declaration .*\/my-streams\/fx_quotes\.ts: declares the topic "fx_quotes" that .*\/my-streams\/fx_copy\.ts declares already$/,
      );
    } finally {
      await rm(copy);
    }
  });

  it('`etl migrate` makes their tables, and a worker loads each sample with nothing quarantined', { timeout: 600_000 }, async () => {
    const migrated = await etl(['migrate']);
    assert.match(migrated.stdout, /stream fx_quotes: version 1: tables created/);
    assert.match(migrated.stdout, /stream trades: version 1: tables created/);

    // At info, to see it start (the env's config logs errors only).
    worker = spawn(path.join(PROJECT_ROOT, 'bin', 'etl'), ['worker'], {
      env: { ...childEnv(), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    const started = new Promise<void>((resolve, reject) => {
      worker!.stderr!.on('data', (d: Buffer) => {
        if (log.includes('worker started')) return;
        log += d.toString();
        if (log.includes('worker started')) resolve();
      });
      worker!.once('exit', (code) => reject(new Error(`etl worker exited with ${code}: ${log}`)));
    });
    await started;

    // The worker made the stream's topic as it started.
    const producer = env.kafka.producer();
    await producer.connect();
    await producer.send({ topic: `${env.config.KAFKA_TOPIC_PREFIX}fx_quotes`, messages: quoteLines.map((value) => ({ value })) });
    await producer.disconnect();
    const run = JSON.parse((await etl(['run', 'pipeline', '--stream', 'fx_quotes', '--wait', '--json'])).stdout) as {
      result: PipelineResult;
    };
    assert.deepEqual([run.result.recordsArchived, run.result.rowsInserted, run.result.quarantined], [QUOTES, QUOTES, 0]);
    assert.equal(run.result.quality.passed, true, JSON.stringify(run.result.quality.checks.filter((c) => !c.passed)));

    const files = JSON.parse((await etl(['ingest', 'files', 'trades', 'trades.csv', '--json'])).stdout) as FilesSummary;
    assert.deepEqual([files.records, files.loaded, files.quarantined, files.qualityPassed], [TRADES, TRADES, 0, true]);

    const { rows } = await env.pool.query<{ quotes: number; bid: string; trades: number; blocks: number; quarantined: number }>(
      `SELECT (SELECT count(*)::int FROM fx_quotes_flat) AS quotes, (SELECT max(bid)::text FROM fx_quotes_flat) AS bid,
              (SELECT count(*)::int FROM trades_flat) AS trades, (SELECT count(*) FILTER (WHERE is_block)::int FROM trades_flat) AS blocks,
              (SELECT count(*)::int FROM quarantine) AS quarantined`,
    );
    assert.deepEqual(rows[0], { quotes: QUOTES, bid: '1.0991', trades: TRADES, blocks: TRADES / 10, quarantined: 0 });
  });
});
