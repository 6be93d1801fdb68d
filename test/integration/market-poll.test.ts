// Market polls end to end on the real servers: pollSource publishing to an isolated Kafka topic
// with its de-duplication table in an isolated PostgreSQL schema, pollMarketWorkflow on a real
// worker and from a schedule, the pipeline loading the polled ticks into ticks_flat, and `etl poll`.
// The APIs are the local replay server (these machines cannot reach the real ones).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { pollSource, type PollResult } from '../../activities/poll/poll';
import { createSchedule, deleteSchedule, describeSchedule, triggerSchedule } from '../../client/commands/schedule';
import { PROJECT_ROOT } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { configEnv } from '../support/isolation';
import { FINNHUB_KEY_HELP } from '../../sources/market/finnhub';
import { TokenBucket } from '../../sources/market/rate-limit';
import { adapterFor } from '../../sources/market/settings';
import type { MarketSource } from '../../sources/market/types';
import { tickSchema, type TickEvent } from '../../streams/ticks/schema';
import type { PipelineResult } from '../../workflows';
import { yahooTicks } from '../support/market-fixtures';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';
import { closedPort, startReplayServer, type ReplayServer } from '../support/market-replay-server';

const FINNHUB_KEY = 'replay-finnhub-key';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const codeIs = (code: string) => (err: unknown) => err instanceof EtlError && err.code === code;

describe('market polls', () => {
  let server: ReplayServer;
  let env: TestEnv;
  /** Every tick the polls below published, in order: what the pipeline must load. */
  const published: TickEvent[] = [];

  before(async () => {
    server = await startReplayServer({ finnhub: FINNHUB_KEY });
    env = await isolatedEnv('market', {
      YAHOO_BASE_URL: server.url,
      FINNHUB_BASE_URL: server.url,
      CRYPTOCOMPARE_BASE_URL: server.url,
      FINNHUB_API_KEY: FINNHUB_KEY,
      MARKET_REQUESTS_PER_MINUTE: 'yahoo=6000,finnhub=6000,cryptocompare=6000',
    });
  });
  after(async () => {
    await server?.close();
    await env?.cleanup();
  });
  beforeEach(() => server.reset());

  const adapter = (source: MarketSource) => adapterFor(env.config, source, { bucket: new TokenBucket(6_000) });

  describe('pollSource: Kafka and the de-duplication table', () => {
    const poll = async (source: MarketSource, symbols?: string[]): Promise<PollResult> => pollSource(env, { source, symbols });
    const topicCount = async () => {
      const admin = env.kafka.admin();
      await admin.connect();
      try {
        return (await admin.fetchTopicOffsets(env.topic('ticks'))).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
      } finally {
        await admin.disconnect();
      }
    };

    it('publishes every new tick, keyed by symbol at its event time, and records the newest per symbol', async () => {
      const r = await poll('yahoo', ['AAPL', 'MSFT']);
      const expected = [...yahooTicks('AAPL'), ...yahooTicks('MSFT')];
      assert.deepEqual([r.fetched, r.published, r.unchanged, r.failedSymbols], [expected.length, expected.length, 0, []]);
      assert.equal(r.topic, env.topic('ticks'));
      assert.equal(await topicCount(), expected.length);
      published.push(...expected);

      const consumer = env.kafka.consumer({ groupId: `${env.config.KAFKA_CLIENT_ID}-read-back` });
      await consumer.connect();
      await consumer.subscribe({ topic: r.topic, fromBeginning: true });
      const seen: { key: string; value: TickEvent; timestamp: string }[] = [];
      const done = new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            seen.push({
              key: message.key!.toString(),
              value: JSON.parse(message.value!.toString()) as TickEvent,
              timestamp: message.timestamp,
            });
            if (seen.length === expected.length) resolve();
          },
        });
      });
      await done;
      await consumer.disconnect();
      const byId = new Map(seen.map((m) => [m.value.tick_id, m]));
      for (const t of expected) {
        const m = byId.get(t.tick_id);
        assert.ok(m, `${t.symbol} ${t.event_ts} published`);
        assert.deepEqual(m.value, t);
        assert.equal(m.key, t.symbol);
        assert.equal(m.timestamp, String(Date.parse(t.event_ts)));
        assert.ok(tickSchema().safeParse(m.value).success);
      }

      const { rows } = await env.pool.query<{ symbol: string; last: Date; price: string }>(
        "SELECT symbol, last_event_ts AS last, last_price::text AS price FROM market_poll_state WHERE source = 'yahoo' ORDER BY symbol",
      );
      const newest = (s: string) => expected.filter((t) => t.symbol === s).at(-1)!;
      assert.deepEqual(
        rows.map((x) => [x.symbol, x.last.toISOString(), Number(x.price)]),
        ['AAPL', 'MSFT'].map((s) => [s, newest(s).event_ts, Number(newest(s).price.toFixed(8))]),
      );
    });

    it('polling the same data again publishes nothing (market closed: no new bars)', async () => {
      const before = await topicCount();
      const r = await poll('yahoo', ['AAPL', 'MSFT']);
      assert.deepEqual([r.published, r.unchanged], [0, r.fetched]);
      assert.equal(await topicCount(), before);
    });

    it('a later recording publishes only the bars finished since', async () => {
      server.play('yahoo', 'later');
      const lastBefore = Math.max(...yahooTicks('AAPL').map((t) => Date.parse(t.event_ts)));
      const newer = yahooTicks('AAPL', '.later').filter((t) => Date.parse(t.event_ts) > lastBefore);
      assert.ok(newer.length > 0, 'the later recording has new bars');
      const r = await poll('yahoo', ['AAPL', 'MSFT']);
      assert.deepEqual(
        r.symbols.map((s) => [s.symbol, s.published]),
        [
          ['AAPL', newer.length],
          ['MSFT', 0],
        ],
      );
      published.push(...newer);
    });

    it('one failing symbol does not lose the others; an unchanged quote (same t) is not sent again', async () => {
      const first = await poll('finnhub', ['AAPL', 'ZZZZ', 'MSFT']);
      assert.deepEqual([first.published, first.failedSymbols.map((f) => [f.symbol, f.code])], [2, [['ZZZZ', 'SOURCE_UNKNOWN_SYMBOL']]]);
      assert.deepEqual(first.symbols.find((s) => s.symbol === 'ZZZZ')!.error?.code, 'SOURCE_UNKNOWN_SYMBOL');
      const again = await poll('finnhub', ['AAPL', 'MSFT']);
      assert.deepEqual([again.fetched, again.published, again.unchanged], [2, 0, 2]);
      const r = await adapter('finnhub').fetch(['AAPL', 'MSFT']);
      published.push(...r.ticks.get('AAPL')!, ...r.ticks.get('MSFT')!);
    });

    it('a source-wide failure publishes nothing and records nothing', async () => {
      const before = await topicCount();
      await assert.rejects(
        pollSource({ ...env, config: { ...env.config, FINNHUB_API_KEY: '' } }, { source: 'finnhub' }),
        codeIs('SOURCE_KEY_MISSING'),
      );
      assert.equal(await topicCount(), before);
    });
  });

  describe('through Temporal', () => {
    it('pollMarketWorkflow polls on a real worker; a poll whose every symbol fails fails the run', { timeout: 120_000 }, async () => {
      await withWorker(env, async (client) => {
        const ok = (await client.workflow.execute('pollMarketWorkflow', {
          taskQueue: env.config.TEMPORAL_TASK_QUEUE,
          workflowId: `poll-test-${env.id}`,
          args: [{ source: 'cryptocompare' }],
        })) as PollResult;
        assert.deepEqual(
          ok.symbols.map((s) => s.symbol),
          env.config.MARKET_SYMBOLS_CRYPTOCOMPARE,
          "the worker config's symbols",
        );
        assert.deepEqual([ok.published, ok.failedSymbols], [ok.symbols.length, []]);
        const r = await adapter('cryptocompare').fetch(env.config.MARKET_SYMBOLS_CRYPTOCOMPARE);
        for (const ticks of r.ticks.values()) published.push(...ticks);

        await assert.rejects(
          client.workflow.execute('pollMarketWorkflow', {
            taskQueue: env.config.TEMPORAL_TASK_QUEUE,
            workflowId: `poll-test-unknown-${env.id}`,
            args: [{ source: 'yahoo', symbols: ['ZZZZ', 'QQQQ'] }],
          }),
          (err: unknown) => {
            assert.ok(err instanceof WorkflowFailedError);
            const cause = err.cause?.cause;
            assert.ok(cause instanceof ApplicationFailure, String(cause));
            assert.deepEqual([cause.type, cause.nonRetryable], ['SOURCE_UNKNOWN_SYMBOL', true]);
            return true;
          },
        );
      });
    });

    it("a poll schedule starts pollMarketWorkflow at the source's default interval", { timeout: 120_000 }, async () => {
      await withWorker(env, async (client) => {
        const id = await createSchedule(client, env.config, {
          id: `poll-finnhub-${env.id}`,
          what: 'poll',
          stream: 'transactions',
          source: 'finnhub',
          overlap: 'skip',
          paused: false,
        });
        try {
          const d = await describeSchedule(client, env.config, id);
          assert.deepEqual(
            (d.spec.intervals ?? []).map((i) => Number(i.every)),
            [30_000],
            'MARKET_POLL_EVERY default for finnhub',
          );
          assert.ok(d.action.type === 'startWorkflow' && d.action.workflowType === 'pollMarketWorkflow');
          assert.deepEqual(d.action.args, [{ source: 'finnhub' }]);
          await triggerSchedule(client, env.config, id);
          let status = '';
          for (let i = 0; i < 60 && status !== 'COMPLETED'; i++) {
            const run = (await describeSchedule(client, env.config, id)).info.recentActions.at(-1);
            if (run) status = (await client.workflow.getHandle(run.action.workflow.workflowId).describe()).status.name;
            if (status === 'FAILED') break;
            if (status !== 'COMPLETED') await sleep(500);
          }
          assert.equal(status, 'COMPLETED');
        } finally {
          await deleteSchedule(client, env.config, id);
        }
      });
    });

    it('the pipeline loads the polled ticks into ticks_flat, each once', { timeout: 240_000 }, async () => {
      const result = await withWorker(
        env,
        (client) =>
          client.workflow.execute('pipelineWorkflow', {
            taskQueue: env.config.TEMPORAL_TASK_QUEUE,
            workflowId: `pipeline-ticks-${env.id}`,
            args: [{ stream: 'ticks', objectConcurrency: 2 }],
          }) as Promise<PipelineResult>,
      );
      const ids = new Set(published.map((t) => t.tick_id));
      assert.equal(result.quarantined, 0);
      assert.equal(result.rowsInserted, ids.size);
      const { rows } = await env.pool.query<{
        tick_id: string;
        symbol: string;
        source: string;
        price: string;
        volume: string | null;
        event_ts: Date;
      }>('SELECT tick_id::text, symbol, source, price::text, volume::text, event_ts FROM ticks_flat');
      assert.equal(rows.length, ids.size);
      const byId = new Map(rows.map((r) => [r.tick_id, r]));
      for (const t of published) {
        const row = byId.get(t.tick_id);
        assert.ok(row, `${t.source} ${t.symbol} ${t.event_ts} loaded`);
        assert.deepEqual(
          [row.symbol, row.source, Number(row.price), row.volume === null ? null : Number(row.volume), row.event_ts.toISOString()],
          [t.symbol, t.source, Number(t.price.toFixed(8)), t.volume ?? null, t.event_ts],
        );
      }
    });
  });

  describe('etl poll', () => {
    // Asynchronous: the replay server answering the child lives in this process's event loop.
    const etl = (args: string[], env2: Record<string, string>) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(path.join(PROJECT_ROOT, 'bin', 'etl'), ['poll', ...args], {
          env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...configEnv(env.config), ...env2 },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });

    it('prints a row per symbol, or JSON; exit 1 only when every symbol failed', async () => {
      const table = await etl(['yahoo', '--symbols', 'AAPL,ZZZZ'], {});
      assert.equal(table.status, 0, table.stderr);
      assert.match(table.stdout, /^symbol\s+fetched\s+published\s+unchanged\s+error$/m);
      assert.match(table.stdout, /^ZZZZ\s+0\s+0\s+0\s+SOURCE_UNKNOWN_SYMBOL: yahoo does not know ZZZZ/m);
      const json = await etl(['cryptocompare', '--symbols', 'BTC-USD', '--json'], {});
      assert.equal(json.status, 0, json.stderr);
      const r = JSON.parse(json.stdout) as PollResult;
      assert.deepEqual([r.source, r.symbols.map((s) => s.symbol), r.fetched], ['cryptocompare', ['BTC-USD'], 1]);
      const allFailed = await etl(['finnhub', '--symbols', 'ZZZZ'], {});
      assert.equal(allFailed.status, 1);
      assert.match(allFailed.stdout, /SOURCE_UNKNOWN_SYMBOL/);
    });

    it('without a key: the clear message, exit 1', async () => {
      const r = await etl(['finnhub'], { FINNHUB_API_KEY: '' });
      assert.equal(r.status, 1);
      assert.equal(r.stderr, `error [SOURCE_KEY_MISSING]: ${FINNHUB_KEY_HELP}\n`);
    });

    it('an unreachable API: one line, no stack trace, exit 1', async () => {
      const port = await closedPort();
      for (const [base, reason] of [
        [`http://127.0.0.1:${port}`, 'the connection was refused'],
        ['https://finnhub.invalid', 'this machine has no route to it'],
      ]) {
        const r = await etl(['finnhub', '--symbols', 'AAPL'], { FINNHUB_BASE_URL: base! });
        assert.equal(r.status, 1);
        assert.match(
          r.stderr,
          new RegExp(`^error \\[SOURCE_UNREACHABLE\\]: cannot reach finnhub at ${base!.replace(/\./g, '\\.')} — ${reason}`),
        );
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.doesNotMatch(r.stderr, /\n\s+at /);
      }
    });
  });
});
