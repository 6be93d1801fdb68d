// A stream's own tables (raw and flat) come from its declaration, not from a hand-written migration:
// `etl migrate` creates them, and afterwards compares each declaration with the live flat table and
// the stream's recorded schema history (stream_schemas): a new column is added (nullable), a
// widening is applied (lib/column-types.ts: isWidening), anything else is refused with one line and
// nothing changes. Every applied change is a new version. A deployment whose tables were made by the
// numbered migrations of old records its first version from the live tables.
//
// Everything runs in one transaction under the migrations' advisory lock: all streams change, or none.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { formatColumnType, isWidening, parseColumnType, sameType } from './column-types';
import { EtlError } from './errors';
import { ident } from './sql';

export interface TableColumn {
  name: string;
  type: string;
}

/** What `etl migrate` is told of a stream's tables (streams/types.ts StreamSpec has all of it). */
export interface StreamTables {
  name: string;
  rawTable: string;
  flatTable: string;
  key: TableColumn;
  columns: readonly TableColumn[];
  eventTimeColumn: string;
}

/** Columns every flat table has after the stream's own (streams/define.ts LINEAGE_COLUMNS). */
const LINEAGE = ['ingested_at', 'load_id', 'bronze_object_id', 'kafka_topic', 'kafka_partition', 'kafka_offset'];
const LINEAGE_DDL = `ingested_at timestamptz NOT NULL DEFAULT now(),
  load_id bigint, bronze_object_id bigint, kafka_topic text, kafka_partition integer, kafka_offset bigint`;

/** The schema a version records: the key and the columns, types in canonical spelling. */
export interface StreamSchema {
  key: TableColumn;
  columns: TableColumn[];
}

export function canonicalSchema(t: Pick<StreamTables, 'key' | 'columns'>): StreamSchema {
  const canon = (c: TableColumn) => ({ name: c.name, type: formatColumnType(parseColumnType(c.type)!) });
  return { key: canon(t.key), columns: t.columns.map(canon) };
}

/** The digest a load compares with the latest applied version: the key and the columns, in order. */
export function schemaDigest(s: StreamSchema): string {
  return createHash('sha256').update(JSON.stringify(s)).digest('hex').slice(0, 16);
}

export interface SchemaChange {
  kind: 'created' | 'adopted' | 'added' | 'widened' | 'dropped';
  column?: string;
  from?: string;
  to?: string;
}

export interface StreamMigration {
  stream: string;
  version: number;
  changes: SchemaChange[];
}

export interface StreamMigrateOptions {
  /** Drop the columns a declaration no longer has (their data is lost). */
  allowDrop?: boolean;
}

interface LiveTable {
  key: TableColumn | undefined;
  columns: TableColumn[];
}

async function liveFlat(client: pg.PoolClient, table: string): Promise<LiveTable | undefined> {
  const { rows } = await client.query<{ name: string; type: string; pk: boolean }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY (i.indkey)) AS pk
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE c.relname = $1 AND c.relkind = 'r' ORDER BY a.attnum`,
    [table],
  );
  if (rows.length === 0) return undefined;
  const typed = rows.map((r) => ({
    name: r.name,
    type: formatColumnType(parseColumnType(r.type) ?? { base: 'text' }),
    raw: r.type,
    pk: r.pk,
  }));
  const unknown = typed.find((c) => !LINEAGE.includes(c.name) && !parseColumnType(c.raw));
  if (unknown)
    throw new EtlError(
      'STREAM_SCHEMA_REFUSED',
      `table ${table}: column ${unknown.name} has type ${unknown.raw}, which no declaration can name`,
    );
  const keys = typed.filter((c) => c.pk);
  return {
    key: keys.length === 1 ? { name: keys[0]!.name, type: keys[0]!.type } : undefined,
    columns: typed.filter((c) => !c.pk && !LINEAGE.includes(c.name)).map((c) => ({ name: c.name, type: c.type })),
  };
}

function createSql(t: StreamTables, s: StreamSchema): string[] {
  const key = `${ident(s.key.name)} ${s.key.type} PRIMARY KEY`;
  return [
    `CREATE TABLE ${ident(t.rawTable)} (
  ${key}, event_ts timestamptz NOT NULL, payload jsonb NOT NULL, ${LINEAGE_DDL})`,
    `CREATE TABLE ${ident(t.flatTable)} (
  ${[key, ...s.columns.map((c) => `${ident(c.name)} ${c.type}`)].join(',\n  ')},
  ${LINEAGE_DDL})`,
    `CREATE INDEX ${ident(`${t.flatTable}_${t.eventTimeColumn}`)} ON ${ident(t.flatTable)} (${ident(t.eventTimeColumn)})`,
    `CREATE INDEX ${ident(`${t.flatTable}_bronze_object`)} ON ${ident(t.flatTable)} (bronze_object_id)`,
  ];
}

const describe = (c: TableColumn) => `${c.name} ${c.type}`;

/**
 * The statements that take the live table to the declaration, and what they change; throws
 * STREAM_SCHEMA_REFUSED, naming the stream, the column, both definitions and the way forward, at
 * the first change that is not an addition or a widening (or a drop, when allowed).
 */
export function planChanges(
  t: StreamTables,
  live: StreamSchema,
  declared: StreamSchema,
  options: StreamMigrateOptions,
): { sql: string[]; changes: SchemaChange[] } {
  const refuse = (what: string, way: string) =>
    new EtlError('STREAM_SCHEMA_REFUSED', `stream ${t.name}: ${what}; nothing was changed. ${way}`);
  const handWritten = 'Change the table with a numbered migration of your own first, or declare it back';
  if (live.key.name !== declared.key.name || live.key.type !== declared.key.type)
    throw refuse(`key ${describe(live.key)} -> ${describe(declared.key)}: a changed key`, handWritten);
  const sql: string[] = [];
  const changes: SchemaChange[] = [];
  const flat = ident(t.flatTable);
  for (const c of declared.columns) {
    const old = live.columns.find((l) => l.name === c.name);
    if (!old) {
      sql.push(`ALTER TABLE ${flat} ADD COLUMN ${ident(c.name)} ${c.type}`);
      changes.push({ kind: 'added', column: c.name, to: c.type });
      continue;
    }
    const from = parseColumnType(old.type)!;
    const to = parseColumnType(c.type)!;
    if (sameType(from, to)) continue;
    if (!isWidening(from, to)) throw refuse(`column ${describe(old)} -> ${describe(c)} is not a widening`, handWritten);
    sql.push(`ALTER TABLE ${flat} ALTER COLUMN ${ident(c.name)} TYPE ${c.type}`);
    changes.push({ kind: 'widened', column: c.name, from: old.type, to: c.type });
  }
  for (const old of live.columns.filter((l) => !declared.columns.some((c) => c.name === l.name))) {
    if (!options.allowDrop)
      throw refuse(
        `column ${describe(old)} is no longer declared (dropped or renamed)`,
        'Run `etl migrate --allow-drop` to drop it (its data is lost), or declare it back',
      );
    sql.push(`ALTER TABLE ${flat} DROP COLUMN ${ident(old.name)}`);
    changes.push({ kind: 'dropped', column: old.name, from: old.type });
  }
  return { sql, changes };
}

async function record(client: pg.PoolClient, stream: string, schema: StreamSchema, changes: SchemaChange[]): Promise<number> {
  const { rows } = await client.query<{ version: number }>(
    `INSERT INTO stream_schemas (stream, version, key, columns, digest, changes)
     SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5 FROM stream_schemas WHERE stream = $1
     RETURNING version`,
    [stream, JSON.stringify(schema.key), JSON.stringify(schema.columns), schemaDigest(schema), JSON.stringify(changes)],
  );
  return rows[0]!.version;
}

/** One stream: its tables created, adopted or changed; a version recorded for each of those. */
async function migrateStream(client: pg.PoolClient, t: StreamTables, options: StreamMigrateOptions): Promise<StreamMigration[]> {
  const declared = canonicalSchema(t);
  const live = await liveFlat(client, t.flatTable);
  const latest = await latestSchemaVersion(client, t.name);
  const applied: StreamMigration[] = [];
  const apply = async (schema: StreamSchema, changes: SchemaChange[]) =>
    applied.push({ stream: t.name, version: await record(client, t.name, schema, changes), changes });
  if (!live) {
    for (const stmt of createSql(t, declared)) await client.query(stmt);
    await apply(declared, [{ kind: 'created' }]);
    return applied;
  }
  if (!live.key)
    throw new EtlError('STREAM_SCHEMA_REFUSED', `stream ${t.name}: table ${t.flatTable} has no one-column primary key to hold the key`);
  const liveSchema: StreamSchema = { key: live.key, columns: live.columns };
  // Tables made before declarations made them (the numbered migrations of old): the first version is what they are.
  if (!latest) await apply(liveSchema, [{ kind: 'adopted' }]);
  else if (latest.digest === schemaDigest(declared)) return applied;
  const plan = planChanges(t, liveSchema, declared, options);
  for (const stmt of plan.sql) await client.query(stmt);
  // The same columns in another order is a version too: the digest loads compare follows the declaration.
  if (plan.changes.length > 0 || schemaDigest(liveSchema) !== schemaDigest(declared)) await apply(declared, plan.changes);
  return applied;
}

/**
 * Every stream's tables to its declaration, in the caller's transaction (search_path set to the
 * deployment's schema, the migrations' lock held). Throws STREAM_SCHEMA_REFUSED, the transaction
 * to be rolled back, when one stream's change is refused.
 */
export async function migrateStreamTables(
  client: pg.PoolClient,
  streams: readonly StreamTables[],
  options: StreamMigrateOptions = {},
): Promise<StreamMigration[]> {
  const applied: StreamMigration[] = [];
  for (const t of streams) applied.push(...(await migrateStream(client, t, options)));
  return applied;
}

export interface SchemaVersion {
  version: number;
  digest: string;
  key: TableColumn;
  columns: TableColumn[];
  changes: SchemaChange[];
  appliedAt: string;
}

/** `etl stream history <stream>`: the versions, oldest first. */
export async function streamHistory(pool: pg.Pool, stream: string): Promise<SchemaVersion[]> {
  const { rows } = await pool.query<SchemaVersion>(
    `SELECT version, digest, key, columns, changes, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "appliedAt"
     FROM stream_schemas WHERE stream = $1 ORDER BY version`,
    [stream],
  );
  return rows;
}

/** The latest applied version of a stream, or undefined before its first `etl migrate`. */
export async function latestSchemaVersion(
  q: Pick<pg.Pool, 'query'>,
  stream: string,
): Promise<{ version: number; digest: string } | undefined> {
  const { rows } = await q.query<{ version: number; digest: string }>(
    'SELECT version, digest FROM stream_schemas WHERE stream = $1 ORDER BY version DESC LIMIT 1',
    [stream],
  );
  return rows[0];
}

/**
 * The schema version a load of the stream runs with: the latest applied one, when this process's
 * declaration is that version (undefined before the stream's first `etl migrate`). A declaration of
 * another version must not load rows with its rules: STREAM_SCHEMA_STALE, transient, so the work
 * waits, visibly, for a worker restarted with the declaration the tables are at (or for `etl migrate`).
 */
export async function loadableSchemaVersion(
  q: Pick<pg.PoolClient, 'query'>,
  stream: Pick<StreamTables, 'name' | 'key' | 'columns'>,
): Promise<number | undefined> {
  const latest = await latestSchemaVersion(q, stream.name);
  const digest = schemaDigest(canonicalSchema(stream));
  if (!latest || latest.digest === digest) return latest?.version;
  const { rows } = await q.query<{ version: number }>(
    'SELECT max(version) AS version FROM stream_schemas WHERE stream = $1 AND digest = $2',
    [stream.name, digest],
  );
  const mine = rows[0]?.version;
  throw new EtlError(
    'STREAM_SCHEMA_STALE',
    mine
      ? `stream ${stream.name}: this worker's declaration is schema version ${mine}, its tables are at version ${latest.version}; restart the worker with the new declaration (retrying meanwhile)`
      : `stream ${stream.name}: this worker's declaration is not a schema version its tables have (latest: ${latest.version}); run \`etl migrate\` with it, or restart the worker with the declaration the tables are at (retrying meanwhile)`,
  );
}
