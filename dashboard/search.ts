// The Search tab's API (shown only when SEARCH_SINK=true): a query string over a stream's index,
// with a date histogram and top terms for the same query, and the lineage of one hit (its flat
// row's load, bronze object and Kafka position, from PostgreSQL). The browser talks to these
// routes only; OpenSearch is queried here, through the client.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type pg from 'pg';
import { z } from 'zod';
import { temporalUiUrl, type Config } from '../lib/config';
import { aliasName, classifySearchError, createSearchClient } from '../lib/search';
import { searchLag } from '../lib/search-state';
import { ident } from '../lib/sql';
import { getStream, streamNames } from '../streams';
import { boundedQuery, QueryRefused } from './search-query';

const indexedStreams = () => streamNames().filter((s) => getStream(s).search);

/** The fields top terms can be counted on: the keyword fields but the key, the declared default first. */
function keywordFields(stream: string): string[] {
  const spec = getStream(stream);
  const all = Object.entries(spec.search!.fields)
    .filter(([name, t]) => t === 'keyword' && name !== spec.keyColumn)
    .map(([name]) => name);
  const first = spec.search!.topTerms;
  return first ? [first, ...all.filter((f) => f !== first)] : all;
}
const termsField = (stream: string): string | undefined => keywordFields(stream)[0];

/** The search sink's lag per indexed stream, for the pipeline panel; null when the sink is off. */
export async function searchLags(pool: pg.Pool, config: Config) {
  if (!config.SEARCH_SINK) return null;
  return Promise.all(indexedStreams().map((s) => searchLag(pool, s, getStream(s).flatTable)));
}

export function registerSearchRoutes(
  app: FastifyInstance,
  deps: {
    config: Config;
    pool: pg.Pool;
    parse: <T extends z.ZodType>(s: T, q: unknown) => z.output<T>;
    noStore: (r: FastifyReply) => FastifyReply;
  },
): void {
  const { config, pool } = deps;
  const client = createSearchClient(config, 10_000);
  app.addHook('onClose', async () => client.close());
  const stream = z.enum(indexedStreams() as [string, ...string[]]).default('transactions');
  const searchQuery = z.object({
    stream,
    q: z.string().max(500, 'q is at most 500 characters').default(''),
    field: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/, 'a field name')
      .optional(),
  });
  const lineageQuery = z.object({ stream, key: z.string().min(1).max(100) });

  app.get('/api/search/config', async (_req, reply) =>
    deps.noStore(reply).send({
      enabled: config.SEARCH_SINK,
      streams: config.SEARCH_SINK
        ? await Promise.all(
            indexedStreams().map(async (s) => ({
              stream: s,
              termsField: termsField(s),
              termsFields: keywordFields(s),
              lag: await searchLag(pool, s, getStream(s).flatTable),
            })),
          )
        : [],
    }),
  );

  app.get('/api/search', async (req, reply) => {
    const p = deps.parse(searchQuery, req.query);
    const spec = getStream(p.stream);
    const field = p.field && keywordFields(p.stream).includes(p.field) ? p.field : termsField(p.stream);
    let query: object = { match_all: {} };
    try {
      if (p.q.trim()) {
        const bounded = boundedQuery(p.q, Object.keys(spec.search!.fields));
        // allow_leading_wildcard: OpenSearch's own guard too, behind the allow-list.
        query = { query_string: { query: bounded, default_operator: 'AND', lenient: true, allow_leading_wildcard: false } };
      }
    } catch (err) {
      if (!(err instanceof QueryRefused)) throw err;
      return deps
        .noStore(reply)
        .code(400)
        .send({ error: 'INVALID_QUERY', message: `invalid query: ${err.message}` });
    }
    try {
      const res = await client.search({
        index: aliasName(config, p.stream),
        // A stream with nothing indexed yet has no index: that is no hits, not an error.
        ignore_unavailable: true,
        allow_no_indices: true,
        body: {
          size: 50,
          track_total_hits: true,
          query,
          sort: [{ [spec.eventTimeColumn]: 'desc' }],
          aggs: {
            histogram: { date_histogram: { field: spec.eventTimeColumn, calendar_interval: 'day', min_doc_count: 1 } },
            ...(field ? { top: { terms: { field, size: 10 } } } : {}),
          },
        } as never,
      });
      const body = res.body as unknown as {
        hits: { total: { value: number }; hits: { _id: string; _index: string; _source: Record<string, unknown> }[] };
        aggregations?: {
          histogram?: { buckets: { key_as_string: string; doc_count: number }[] };
          top?: { buckets: { key: string; doc_count: number }[] };
        };
      };
      return deps.noStore(reply).send({
        stream: p.stream,
        total: body.hits.total.value,
        hits: body.hits.hits.map((h) => ({ id: h._id, index: h._index, source: h._source })),
        histogram: (body.aggregations?.histogram?.buckets ?? []).map((b) => ({ day: b.key_as_string.slice(0, 10), count: b.doc_count })),
        topField: field ?? null,
        top: (body.aggregations?.top?.buckets ?? []).map((b) => ({ value: b.key, count: b.doc_count })),
      });
    } catch (err) {
      const e = classifySearchError(err, config, 'a search');
      // A query string that does not parse is the user's: say so, as for any bad filter.
      if (e.code === 'SEARCH_REQUEST_FAILED') return deps.noStore(reply).code(400).send({ error: 'INVALID_QUERY', message: e.message });
      return deps.noStore(reply).code(503).send({ error: e.code, message: e.message });
    }
  });

  app.get('/api/search/lineage', async (req, reply) => {
    const p = deps.parse(lineageQuery, req.query);
    const spec = getStream(p.stream);
    const { rows } = await pool.query<Record<string, unknown>>(
      `SELECT f.${ident(spec.keyColumn)}::text AS key, f.load_id, f.bronze_object_id, f.kafka_topic, f.kafka_partition, f.kafka_offset,
              b.object_key, b.archived_at, b.rows_version, l.loaded_at, l.workflow_id
       FROM ${ident(spec.flatTable)} f
       LEFT JOIN bronze_objects b ON b.id = f.bronze_object_id
       LEFT JOIN loads l ON l.load_id = f.load_id
       WHERE f.${ident(spec.keyColumn)}::text = $1`,
      [p.key],
    );
    const row = rows[0];
    if (!row)
      return deps
        .noStore(reply)
        .code(404)
        .send({ error: 'NOT_FOUND', message: `no ${p.stream} row with key ${p.key}` });
    const wf = typeof row.workflow_id === 'string' ? row.workflow_id : null;
    return deps.noStore(reply).send({ stream: p.stream, ...row, temporalUrl: wf ? temporalUiUrl(config, wf) : null });
  });
}
