// Continuous mode with the search sink on: the running stream starts the search lane with the
// first rows it loads, and records produced while it runs reach the index without any pipeline
// run — the index ends up with exactly the flat table's rows, by key.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@opensearch-project/opensearch';
import { produceTransactions } from '../../activities/ingest/produce';
import { startStream, stopStream } from '../../client/commands/stream';
import { aliasName, createSearchClient } from '../../lib/search';
import { searchLag } from '../../lib/search-state';
import { dropTestIndexes, endSearchLane } from '../support/search';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';

const DAY = 86_400_000;
const gen = { seed: 51, startMs: Math.floor(Date.now() / DAY) * DAY - DAY, windowMs: DAY };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('search sink in continuous mode', () => {
  let env: TestEnv;
  let search: Client;

  before(async () => {
    env = await isolatedEnv('searchstream', { SEARCH_SINK: true });
    search = createSearchClient(env.config);
  });

  after(async () => {
    await endSearchLane(env);
    await dropTestIndexes(env, search);
    await search?.close();
    await env?.cleanup();
  });

  it('indexes what the running stream loads, without a pipeline run', { timeout: 240_000 }, async () => {
    await withWorker(env, async (client) => {
      const started = await startStream(client, env.config, { stream: 'transactions', flushIntervalMs: 500 });
      assert.equal(started.started, true);
      for (const [from, to] of [
        [0, 300],
        [300, 700],
      ] as const) {
        await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, topic: env.topic(), rows: to, startIndex: from });
      }
      const alias = aliasName(env.config, 'transactions');
      const deadline = Date.now() + 120_000;
      let flat = 0;
      let docs = -1;
      while (Date.now() < deadline) {
        flat = (await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM transactions_flat')).rows[0]!.n;
        const lag = await searchLag(env.pool, 'transactions', 'transactions_flat');
        if (flat === 700 && lag.rowsBehind === 0) {
          await search.indices.refresh({ index: alias });
          docs = Number((await search.count({ index: alias })).body.count);
          if (docs === flat) break;
        }
        await sleep(500);
      }
      assert.equal(flat, 700);
      assert.equal(docs, flat, 'the index holds every flat row');
      const { rows } = await env.pool.query<{ id: string }>('SELECT transaction_id::text AS id FROM transactions_flat ORDER BY 1');
      const res = await search.mget({ index: alias, body: { ids: rows.map((r) => r.id) } });
      const found = (res.body as { docs: { found: boolean }[] }).docs.filter((d) => d.found).length;
      assert.equal(found, rows.length, 'every key is a document id');
      const stopped = await stopStream(client, env.config, 'transactions', 60_000);
      assert.notEqual(stopped.state, 'timeout');
    });
  });
});
