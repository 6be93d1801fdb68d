// The OpenSearch side of the search sink (docs/search.md): the client, names of indexes, aliases and
// templates, the template itself, bulk indexing of prepared documents, and the error taxonomy of
// OpenSearch failures. What a document is and which rows need indexing is the activities' business.
import { Client, errors } from '@opensearch-project/opensearch';
import { maskUrlCredentials, type Config } from './config';
import { EtlError } from './errors';

export type SearchConfig = Pick<Config, 'OPENSEARCH_URL' | 'OPENSEARCH_INDEX_PREFIX'>;
type SearchLogin = Pick<Config, 'OPENSEARCH_URL' | 'OPENSEARCH_USERNAME' | 'OPENSEARCH_PASSWORD'>;

export interface SearchEndpoint {
  /** OPENSEARCH_URL without credentials: what requests go to. */
  url: string;
  /** Basic auth: OPENSEARCH_USERNAME/OPENSEARCH_PASSWORD, else the user:password@ of the URL. */
  auth?: { username: string; password: string };
}

/** Where the node is and how to log in, with the credentials out of the URL so that no client, error or log line carries them. */
export function searchEndpoint(cfg: SearchLogin): SearchEndpoint {
  const url = new URL(cfg.OPENSEARCH_URL);
  const username = cfg.OPENSEARCH_USERNAME || decodeURIComponent(url.username);
  const password = cfg.OPENSEARCH_USERNAME ? cfg.OPENSEARCH_PASSWORD : decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  return { url: url.toString(), ...(username ? { auth: { username, password } } : {}) };
}

/**
 * How a flat column is indexed. Money and prices are `scaled_float`: the indexed value is the
 * decimal times the factor as a long, so a factor of 10^scale keeps every value of numeric(p,scale)
 * exact (while it fits in a long) for range queries and sums; `_source` keeps the exact decimal text.
 */
export type SearchFieldType =
  'keyword' | 'text' | 'date' | 'long' | 'integer' | 'short' | 'double' | 'boolean' | { type: 'scaled_float'; scalingFactor: number };

/** Lineage and bookkeeping fields every document carries besides the stream's own columns. */
export const LINEAGE_FIELDS: Readonly<Record<string, SearchFieldType>> = {
  stream: 'keyword',
  load_id: 'long',
  bronze_object_id: 'long',
  kafka_topic: 'keyword',
  kafka_partition: 'integer',
  kafka_offset: 'long',
  rows_version: 'integer',
};

function fieldMapping(t: SearchFieldType): Record<string, unknown> {
  if (typeof t === 'object') return { type: 'scaled_float', scaling_factor: t.scalingFactor };
  // Free text is searched by words and still counted as a whole value (top terms) through .keyword.
  if (t === 'text') return { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 1024 } } };
  if (t === 'date') return { type: 'date', format: 'strict_date_optional_time' };
  return { type: t };
}

/** Every field mapped explicitly; `strict`: a field the template does not name is a rejected document, not a guess. */
export function searchMappings(fields: Readonly<Record<string, SearchFieldType>>): Record<string, unknown> {
  const all = { ...fields, ...LINEAGE_FIELDS };
  return {
    dynamic: 'strict',
    properties: Object.fromEntries(Object.entries(all).map(([name, t]) => [name, fieldMapping(t)])),
  };
}

export const aliasName = (cfg: SearchConfig, stream: string) => `${cfg.OPENSEARCH_INDEX_PREFIX}${stream}`;
/** One index per stream and month of event time (UTC): `etl-transactions-2026.03`. */
export const monthIndexName = (cfg: SearchConfig, stream: string, month: string) => `${aliasName(cfg, stream)}-${month}`;

export function createSearchClient(cfg: SearchLogin, requestTimeoutMs = 30_000): Client {
  // No client-side retries: the activity's retry policy owns backoff, and shows it in the Web UI.
  const { url, auth } = searchEndpoint(cfg);
  return new Client({ node: url, ...(auth ? { auth } : {}), maxRetries: 0, requestTimeout: requestTimeoutMs });
}

const TRANSIENT_STATUS = new Set([429, 502, 503, 504]);

/** An OpenSearch client failure as a taxonomy error: the node unreachable or overloaded is transient. */
export function classifySearchError(err: unknown, cfg: Pick<Config, 'OPENSEARCH_URL'>, what: string): EtlError {
  if (err instanceof EtlError) return err;
  const at = maskUrlCredentials(cfg.OPENSEARCH_URL);
  if (err instanceof errors.ConnectionError || err instanceof errors.NoLivingConnectionsError || err instanceof errors.TimeoutError) {
    return new EtlError(
      'SEARCH_UNREACHABLE',
      `OpenSearch at ${at} did not answer (${what}): start it with \`etl stack up --with opensearch\``,
      { cause: err },
    );
  }
  if (err instanceof errors.ResponseError) {
    const status = err.statusCode ?? 0;
    const reason = JSON.stringify(err.body ?? err.message).slice(0, 300);
    if (TRANSIENT_STATUS.has(status) || status >= 500) {
      return new EtlError('SEARCH_TRANSIENT', `OpenSearch at ${at} answered ${status} to ${what}: ${reason}`, {
        cause: err,
      });
    }
    return new EtlError('SEARCH_REQUEST_FAILED', `OpenSearch at ${at} refused ${what} (${status}): ${reason}`, {
      cause: err,
    });
  }
  return new EtlError('SEARCH_REQUEST_FAILED', `${what} against OpenSearch at ${at} failed: ${String(err)}`, {
    cause: err,
  });
}

async function call<T>(cfg: SearchConfig, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classifySearchError(err, cfg, what);
  }
}

/** Idempotent: every month index a stream gets takes these mappings and joins the stream's alias. */
export async function putStreamTemplate(
  client: Client,
  cfg: SearchConfig,
  stream: string,
  fields: Readonly<Record<string, SearchFieldType>>,
): Promise<void> {
  const alias = aliasName(cfg, stream);
  await call(cfg, `the index template ${alias}`, () =>
    client.indices.putIndexTemplate({
      name: alias,
      body: {
        index_patterns: [`${alias}-*`],
        template: {
          settings: { number_of_shards: 1, number_of_replicas: 0 },
          mappings: searchMappings(fields) as never,
          aliases: { [alias]: {} },
        },
      },
    }),
  );
}

/**
 * Adds to the stream's existing month indexes the fields their mapping lacks (a column added to the
 * declaration since they were made): the template reaches only indexes made after it, and a strict
 * mapping refuses every document carrying the new field. Only missing fields are put, so a field an
 * index maps otherwise stays a refused document (search_rejections), never a failed request.
 */
export async function addMissingFields(
  client: Client,
  cfg: SearchConfig,
  stream: string,
  fields: Readonly<Record<string, SearchFieldType>>,
): Promise<string[]> {
  const alias = aliasName(cfg, stream);
  const wanted = (searchMappings(fields) as { properties: Record<string, unknown> }).properties;
  const res = await call(cfg, `the mappings of ${alias}-*`, () =>
    client.indices.getMapping({ index: `${alias}-*`, allow_no_indices: true, ignore_unavailable: true }),
  );
  const indexes = res.body as Record<string, { mappings?: { properties?: Record<string, unknown> } }>;
  const added: string[] = [];
  for (const [index, { mappings }] of Object.entries(indexes)) {
    const missing = Object.fromEntries(Object.entries(wanted).filter(([name]) => !(name in (mappings?.properties ?? {}))));
    if (Object.keys(missing).length === 0) continue;
    await call(cfg, `the mapping of ${index}`, () => client.indices.putMapping({ index, body: { properties: missing } as never }));
    added.push(`${index}: ${Object.keys(missing).join(', ')}`);
  }
  return added;
}

/** Puts every month index of the stream in its alias, also one created before the template (by hand, by an older version). */
export async function ensureStreamAlias(client: Client, cfg: SearchConfig, stream: string): Promise<void> {
  const alias = aliasName(cfg, stream);
  await call(cfg, `the alias ${alias}`, () => client.indices.putAlias({ index: `${alias}-*`, name: alias }));
}

/** One prepared document: its id (the stream key), its month index and its JSON text. */
export interface PreparedDoc {
  id: string;
  index: string;
  json: string;
}

export interface DocRejection {
  id: string;
  status: number;
  type: string;
  reason: string;
}

/** Bulk requests stay under this many bytes of documents (well below http.max_content_length). */
const BULK_BYTES = 4 * 1024 * 1024;
const BULK_DOCS = 2_000;

/**
 * Indexes (create or overwrite by id: idempotent) every document, in bulk requests. A document the
 * index refuses (mapping conflict, too large) comes back as a rejection with its reason; one refused
 * for a reason that passes (429, 5xx) makes the whole call fail transiently, so it is tried again.
 */
export async function bulkIndex(
  client: Client,
  cfg: SearchConfig,
  docs: readonly PreparedDoc[],
  onChunk: () => void = () => {},
): Promise<{ indexed: number; rejected: DocRejection[] }> {
  let indexed = 0;
  const rejected: DocRejection[] = [];
  for (let start = 0; start < docs.length;) {
    const body: string[] = [];
    let bytes = 0;
    const chunk: PreparedDoc[] = [];
    while (start < docs.length && chunk.length < BULK_DOCS && (chunk.length === 0 || bytes + docs[start]!.json.length < BULK_BYTES)) {
      const d = docs[start++]!;
      chunk.push(d);
      bytes += d.json.length;
      body.push(JSON.stringify({ index: { _index: d.index, _id: d.id } }), d.json);
    }
    let res;
    try {
      res = await call(cfg, `a bulk request of ${chunk.length} documents`, () => client.bulk({ body: body as never }));
    } catch (err) {
      // One document larger than the node takes in a request (http.max_content_length): refused, recorded.
      const status = ((err as EtlError).cause as { statusCode?: number } | undefined)?.statusCode;
      if (status !== 413 || chunk.length !== 1) throw err;
      rejected.push({
        id: chunk[0]!.id,
        status,
        type: 'request_entity_too_large',
        reason: `the document is ${bytes} bytes, more than the node accepts in one request`,
      });
      onChunk();
      continue;
    }
    const items = (
      res.body as {
        items?: Record<string, { status: number; error?: { type?: string; reason?: string; caused_by?: { reason?: string } } }>[];
      }
    ).items;
    if (!items || items.length !== chunk.length)
      throw new EtlError('SEARCH_REQUEST_FAILED', 'a bulk response did not account for every document');
    items.forEach((item, i) => {
      const r = Object.values(item)[0]!;
      if (r.status < 300) return void indexed++;
      if (TRANSIENT_STATUS.has(r.status) || r.status >= 500) {
        throw new EtlError('SEARCH_TRANSIENT', `OpenSearch answered ${r.status} for document ${chunk[i]!.id}: ${r.error?.reason ?? ''}`);
      }
      const cause = r.error?.caused_by?.reason;
      rejected.push({
        id: chunk[i]!.id,
        status: r.status,
        type: r.error?.type ?? 'unknown',
        reason: `${r.error?.reason ?? 'rejected'}${cause ? ` (${cause})` : ''}`.slice(0, 2000),
      });
    });
    onChunk();
  }
  return { indexed, rejected };
}

/**
 * Removes an object's documents older than `version` from every index of the stream: after a
 * re-index, copies left where a re-derived event time moved a document to another month.
 */
export async function deleteStaleDocs(client: Client, cfg: SearchConfig, stream: string, bronzeObjectId: number, version: number) {
  await call(cfg, `removing stale documents of object ${bronzeObjectId}`, () =>
    client.deleteByQuery({
      index: aliasName(cfg, stream),
      refresh: true,
      conflicts: 'proceed',
      allow_no_indices: true,
      body: { query: { bool: { filter: [{ term: { bronze_object_id: bronzeObjectId } }, { range: { rows_version: { lt: version } } }] } } },
    }),
  );
}
