// The search sink's one activity: a page of bronze objects whose flat rows the index is behind on
// (bronze_objects.rows_version > search_index_state.indexed_version), each read in one REPEATABLE
// READ snapshot together with its rows_version, indexed in bulk with the stream key as document id,
// and recorded: the version indexed, and every document the index refused with its reason. It
// never writes the flat tables, so nothing here can hold up or roll back a load.
import { Context } from '@temporalio/activity';
import type { Client } from '@opensearch-project/opensearch';
import { scopedId } from '../../lib/deployment';
import { classifyPostgresError } from '../../lib/postgres';
import { postgresAddress } from '../../lib/postgres';
import {
  addMissingFields,
  bulkIndex,
  createSearchClient,
  deleteStaleDocs,
  ensureStreamAlias,
  monthIndexName,
  putStreamTemplate,
  type DocRejection,
} from '../../lib/search';
import { getStream } from '../../streams';
import type { StreamSearchSpec } from '../../streams/types';
import type { ActivityDeps } from '../deps';
import { beat } from '../attempts';

/** The one lane per stream and deployment (`etl search sync`, the pipeline and the stream all start this id). */
export const searchSyncWorkflowId = (cfg: Parameters<typeof scopedId>[0], stream: string) => scopedId(cfg, `search-sync-${stream}`);

export interface SearchSyncPageInput {
  stream: string;
  /** Objects with a larger id only: the lane's cursor through the manifest. */
  afterObjectId: number;
  limit: number;
}

export interface SearchSyncPageResult {
  objects: number;
  docsIndexed: number;
  docsRejected: number;
  /** The cursor after this page. */
  lastObjectId: number;
  /** No object behind the cursor was left: the next page starts from the beginning again. */
  exhausted: boolean;
  /** The sink is off (SEARCH_SINK=false) or the stream declares no index: the lane ends. */
  off?: boolean;
}

const clients = new WeakMap<ActivityDeps, Client>();
function clientOf(deps: ActivityDeps): Client {
  let c = clients.get(deps);
  if (!c) clients.set(deps, (c = createSearchClient(deps.config)));
  return c;
}

function searchSpecOf(stream: string): StreamSearchSpec | undefined {
  return getStream(stream).search;
}

interface ObjectDocs {
  version: number;
  docs: { id: string; index: string; json: string }[];
}

/** The object's rows and the rows_version they are, from one snapshot: the version recorded matches what was indexed. */
async function readObject(deps: ActivityDeps, stream: string, spec: StreamSearchSpec, id: number): Promise<ObjectDocs> {
  const client = await deps.pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const v = await client.query<{ rows_version: number }>('SELECT rows_version FROM bronze_objects WHERE id = $1', [id]);
    const version = v.rows[0]?.rows_version ?? 0;
    const { rows } = await client.query<{ id: string; month: string; doc: string }>(spec.documentsSql, [id, version]);
    await client.query('COMMIT');
    return { version, docs: rows.map((r) => ({ id: r.id, index: monthIndexName(deps.config, stream, r.month), json: r.doc })) };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw classifyPostgresError(err, postgresAddress(deps.config.DATABASE_URL)) ?? err;
  } finally {
    client.release();
  }
}

/** The version indexed and the refusals of this version, replacing those of earlier ones; never moves a version back. */
async function record(deps: ActivityDeps, stream: string, id: number, version: number, indexed: number, rejected: DocRejection[]) {
  const client = await deps.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('DELETE FROM search_rejections WHERE bronze_object_id = $1', [id]);
    if (rejected.length > 0) {
      await client.query(
        `INSERT INTO search_rejections (bronze_object_id, doc_id, stream, rows_version, http_status, error_type, reason)
         SELECT $1, d, $2, $3, s, t, r FROM unnest($4::text[], $5::int[], $6::text[], $7::text[]) AS x(d, s, t, r)`,
        [
          id,
          stream,
          version,
          rejected.map((r) => r.id),
          rejected.map((r) => r.status),
          rejected.map((r) => r.type),
          rejected.map((r) => r.reason),
        ],
      );
    }
    await client.query(
      `INSERT INTO search_index_state (bronze_object_id, stream, indexed_version, docs_indexed, docs_rejected, indexed_at)
       VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (bronze_object_id) DO UPDATE
         SET indexed_version = EXCLUDED.indexed_version, docs_indexed = EXCLUDED.docs_indexed,
             docs_rejected = EXCLUDED.docs_rejected, indexed_at = now()
       WHERE search_index_state.indexed_version <= EXCLUDED.indexed_version`,
      [id, stream, version, indexed, rejected.length],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw classifyPostgresError(err, postgresAddress(deps.config.DATABASE_URL)) ?? err;
  } finally {
    client.release();
  }
}

export async function searchSyncPage(deps: ActivityDeps, input: SearchSyncPageInput): Promise<SearchSyncPageResult> {
  const { stream } = input;
  const spec = searchSpecOf(stream);
  const none = { objects: 0, docsIndexed: 0, docsRejected: 0, lastObjectId: input.afterObjectId, exhausted: true };
  if (!spec || !deps.config.SEARCH_SINK) return { ...none, off: true };
  const { rows } = await deps.pool.query<{ id: string; indexed: number }>(
    `SELECT bo.id, coalesce(s.indexed_version, 0) AS indexed
     FROM bronze_objects bo LEFT JOIN search_index_state s ON s.bronze_object_id = bo.id
     WHERE bo.stream = $1 AND bo.id > $2 AND bo.rows_version > coalesce(s.indexed_version, 0)
     ORDER BY bo.id LIMIT $3`,
    [stream, input.afterObjectId, input.limit],
  );
  if (rows.length === 0) return none;
  const search = clientOf(deps);
  await putStreamTemplate(search, deps.config, stream, spec.fields);
  for (const added of await addMissingFields(search, deps.config, stream, spec.fields))
    Context.current().log.info(`search index ${added}: fields added`);
  const result: SearchSyncPageResult = { ...none, exhausted: rows.length < input.limit };
  for (const row of rows) {
    const id = Number(row.id);
    const { version, docs } = await readObject(deps, stream, spec, id);
    const { indexed, rejected } = await bulkIndex(search, deps.config, docs, () => beat({ object: id }));
    // A re-index: copies of this object's documents from an earlier version (a re-derived event
    // time moved them to another month's index, or they are refused now) must not stay searchable.
    if (row.indexed > 0) await deleteStaleDocs(search, deps.config, stream, id, version);
    await record(deps, stream, id, version, indexed, rejected);
    result.objects++;
    result.docsIndexed += indexed;
    result.docsRejected += rejected.length;
    result.lastObjectId = id;
    beat({ object: id });
  }
  await ensureStreamAlias(search, deps.config, stream);
  return result;
}
