// The search sink's pure parts: a stream's index declaration must map every column, the template's
// mapping is explicit and strict, documents keep decimals exact and times in UTC, bulk responses
// are split into indexed, refused (recorded) and transient (retried), and OpenSearch failures get
// their taxonomy codes. The real node is exercised by test/integration/search*.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Client } from '@opensearch-project/opensearch';
import { errors } from '@opensearch-project/opensearch';
import { z } from 'zod';
import { loadConfig } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { opensearchService } from '../../client/stack/opensearch';
import {
  aliasName,
  bulkIndex,
  classifySearchError,
  createSearchClient,
  LINEAGE_FIELDS,
  monthIndexName,
  searchEndpoint,
  searchMappings,
} from '../../lib/search';
import { defineStream } from '../../streams/define';
import { ticksStream } from '../../streams/ticks';
import { transactionsStream } from '../../streams/transactions';

const cfg = { OPENSEARCH_URL: 'http://127.0.0.1:9200', OPENSEARCH_INDEX_PREFIX: 'etl-' };

const declare = (fields: Record<string, 'keyword' | 'date'>, topTerms?: string) =>
  defineStream({
    name: 'probe',
    schema: z.object({ id: z.string() }),
    enrich: (e) => e,
    rawTable: 'raw_probe',
    flatTable: 'probe_flat',
    key: { name: 'id', type: 'uuid' },
    eventTimeColumn: 'event_ts',
    columns: [
      { name: 'event_ts', type: 'timestamptz' },
      { name: 'kind', type: 'text' },
    ],
    search: { fields, ...(topTerms ? { topTerms } : {}) },
  });

/** A client whose bulk answers with the given item statuses, one per document. */
function fakeClient(statuses: number[]): Client {
  return {
    bulk: async ({ body }: { body: string[] }) => ({
      body: {
        items: body
          .filter((_, i) => i % 2 === 0)
          .map((_, i) => ({
            index:
              statuses[i]! < 300
                ? { status: statuses[i] }
                : { status: statuses[i], error: { type: 'mapper_parsing_exception', reason: `bad ${i}` } },
          })),
      },
    }),
  } as unknown as Client;
}

describe('search sink', () => {
  it('maps a column the declaration leaves out by its type, and refuses a field that is no column', () => {
    assert.deepEqual(declare({}).search!.fields, { id: 'keyword', event_ts: 'date', kind: 'keyword' });
    assert.deepEqual(declare({ kind: 'date' as never }).search!.fields.kind, 'date');
    assert.throws(
      () => declare({ id: 'keyword', event_ts: 'date', kind: 'keyword', nope: 'keyword' } as never),
      /search.fields names nope, not a column/,
    );
    assert.throws(() => declare({ id: 'keyword', event_ts: 'date', kind: 'keyword' }, 'event_ts'), /not a keyword field/);
    assert.ok(declare({ id: 'keyword', event_ts: 'date', kind: 'keyword' }, 'kind').search);
  });

  it('transactions and ticks declare an index; money is exact (scaled_float by the decimal scale)', () => {
    for (const spec of [transactionsStream, ticksStream]) {
      assert.deepEqual(Object.keys(spec.search!.fields).sort(), [spec.keyColumn, ...spec.flatColumns].sort());
    }
    assert.deepEqual(transactionsStream.search!.fields.amount, { type: 'scaled_float', scalingFactor: 100 });
    assert.deepEqual(ticksStream.search!.fields.price, { type: 'scaled_float', scalingFactor: 100_000_000 });
  });

  it('maps every field explicitly, strict, with the lineage fields', () => {
    const m = searchMappings(transactionsStream.search!.fields) as {
      dynamic: string;
      properties: Record<string, { type: string; scaling_factor?: number }>;
    };
    assert.equal(m.dynamic, 'strict');
    assert.deepEqual(
      Object.keys(m.properties).sort(),
      [...Object.keys(transactionsStream.search!.fields), ...Object.keys(LINEAGE_FIELDS)].sort(),
    );
    assert.equal(m.properties.amount!.scaling_factor, 100);
    assert.equal(m.properties.merchant!.type, 'text');
    assert.equal(m.properties.event_ts!.type, 'date');
  });

  it('builds documents with decimals as text and times in UTC, one index per month, by object and version', () => {
    const sql = transactionsStream.search!.documentsSql;
    assert.match(sql, /'amount', f\."amount"::text/);
    assert.match(sql, /to_char\(f\."event_ts" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS\.US"Z"'\)/);
    assert.match(sql, /'YYYY\.MM'\) AS month/);
    assert.match(sql, /WHERE f\.bronze_object_id = \$1/);
    assert.match(sql, /'rows_version', \$2::int/);
    assert.equal(aliasName(cfg, 'transactions'), 'etl-transactions');
    assert.equal(monthIndexName(cfg, 'transactions', '2026.11'), 'etl-transactions-2026.11');
  });

  it('counts indexed documents, returns refused ones with the reason, and fails transiently on 429', async () => {
    const docs = [0, 1, 2, 3].map((i) => ({ id: `k${i}`, index: 'etl-x-2026.11', json: '{}' }));
    const r = await bulkIndex(fakeClient([201, 400, 200, 400]), cfg, docs);
    assert.equal(r.indexed, 2);
    assert.deepEqual(
      r.rejected.map((x) => [x.id, x.status, x.type]),
      [
        ['k1', 400, 'mapper_parsing_exception'],
        ['k3', 400, 'mapper_parsing_exception'],
      ],
    );
    await assert.rejects(
      bulkIndex(fakeClient([201, 429]), cfg, docs.slice(0, 2)),
      (e: unknown) => e instanceof EtlError && e.code === 'SEARCH_TRANSIENT',
    );
  });

  it('records a document larger than a request the node accepts as refused (413), not as a failure', async () => {
    const tooLarge = {
      bulk: async () => {
        throw new errors.ResponseError({ body: { error: 'too large' }, statusCode: 413, headers: {}, meta: {} } as never);
      },
    } as unknown as Client;
    const r = await bulkIndex(tooLarge, cfg, [{ id: 'big', index: 'etl-x-2026.11', json: '{}' }]);
    assert.deepEqual(
      r.rejected.map((x) => [x.id, x.status, x.type]),
      [['big', 413, 'request_entity_too_large']],
    );
  });

  it('classifies an unreachable node as transient, naming its address and how to start it', () => {
    const e = classifySearchError(new errors.ConnectionError('connect ECONNREFUSED'), cfg, 'a bulk request');
    assert.equal(e.code, 'SEARCH_UNREACHABLE');
    assert.equal(e.retryable, true);
    assert.match(e.message, /http:\/\/127\.0\.0\.1:9200/);
    assert.match(e.message, /etl stack up --with opensearch/);
  });

  it('is off by default, and index prefixes are lowercase', () => {
    const c = loadConfig({}, '/nonexistent/.env');
    assert.equal(c.SEARCH_SINK, false);
    assert.equal(c.OPENSEARCH_INDEX_PREFIX, 'etl-');
    assert.throws(() => loadConfig({ OPENSEARCH_INDEX_PREFIX: 'Etl-' }, '/nonexistent/.env'), /OPENSEARCH_INDEX_PREFIX/);
  });
});

describe('OpenSearch credentials', () => {
  const NO_DOTENV = '/nonexistent/.env';

  it('takes them out of the URL: the client and every message see the node without them', () => {
    const c = { OPENSEARCH_URL: 'https://admin:s3cret@search.example:9200', OPENSEARCH_USERNAME: '', OPENSEARCH_PASSWORD: '' };
    assert.deepEqual(searchEndpoint(c), {
      url: 'https://search.example:9200/',
      auth: { username: 'admin', password: 's3cret' },
    });
    const e = classifySearchError(new errors.ConnectionError('connect ECONNREFUSED'), c, 'a search');
    assert.match(e.message, /https:\/\/admin:\*\*\*@search\.example:9200/);
    assert.doesNotMatch(e.message, /s3cret/);
  });

  it('prefers OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD (or its _FILE) to the URL', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'etl-search-secret-'));
    try {
      const file = path.join(dir, 'password');
      writeFileSync(file, 'from-a-file\n');
      const c = loadConfig(
        { OPENSEARCH_URL: 'http://old:old@127.0.0.1:9200', OPENSEARCH_USERNAME: 'etl', OPENSEARCH_PASSWORD_FILE: file },
        NO_DOTENV,
      );
      assert.deepEqual(searchEndpoint(c), { url: 'http://127.0.0.1:9200/', auth: { username: 'etl', password: 'from-a-file' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a password without a user name, without showing it', () => {
    assert.throws(
      () => loadConfig({ OPENSEARCH_PASSWORD: 'hunter22' }, NO_DOTENV),
      (err: unknown) => {
        assert.ok(err instanceof EtlError);
        assert.match(err.message, /OPENSEARCH_PASSWORD=\(hidden, 8 characters\): needs OPENSEARCH_USERNAME/);
        assert.doesNotMatch(err.message, /hunter22/);
        return true;
      },
    );
  });

  it('are sent as basic auth by the sink client and by the stack health check', async () => {
    const seen: (string | undefined)[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(req.url?.startsWith('/_cluster/health') ? { status: 'green' } : { count: 0 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const config = loadConfig(
        { OPENSEARCH_URL: `http://127.0.0.1:${port}`, OPENSEARCH_USERNAME: 'etl', OPENSEARCH_PASSWORD: 'pw:with@chars' },
        NO_DOTENV,
      );
      const client = createSearchClient(config);
      await client.count({ index: 'etl-x' });
      await client.close();
      await opensearchService.health(config, 5_000);
      const basic = `Basic ${Buffer.from('etl:pw:with@chars').toString('base64')}`;
      assert.deepEqual(seen, [basic, basic]);
    } finally {
      server.close();
    }
  });
});
