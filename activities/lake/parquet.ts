// Parquet through DuckDB (docs/lake.md, "Why DuckDB"): the flat rows of one bronze object, copied out
// of PostgreSQL as CSV text, are parsed by DuckDB into exact types (numeric(p,s) -> DECIMAL(p,s),
// timestamptz -> TIMESTAMP WITH TIME ZONE, i.e. UTC instants) and written one file per event date,
// in key order, with the configured codec and row-group size. DuckDB dictionary-encodes text columns
// on its own where that pays. Nothing here talks to S3 or PostgreSQL. The engine is the process's
// one DuckDB instance (lib/duckdb.ts); a write runs on a connection of its own.
import path from 'node:path';
import type { DuckDb } from '../../lib/duckdb';

/** A flat-table column as the lake stores it. */
export interface LakeColumn {
  name: string;
  /** PostgreSQL's format_type of the column, e.g. `numeric(12,2)`. */
  pgType: string;
}

/** The partition column added to the CSV after the flat columns. */
export const EVENT_DATE = '__event_date';

const NUMERIC = /^numeric\((\d+),(\d+)\)$/;

/** The DuckDB (and so Parquet) type of a PostgreSQL column type; a type with no exact counterpart is refused. */
export function lakeTypeOf(pgType: string): string {
  const numeric = NUMERIC.exec(pgType);
  if (numeric) {
    const [precision, scale] = [Number(numeric[1]), Number(numeric[2])];
    if (precision > 38)
      throw new Error(`numeric(${precision},${scale}) is wider than Parquet's widest exact decimal in DuckDB (38 digits)`);
    return `DECIMAL(${precision},${scale})`;
  }
  switch (pgType) {
    case 'smallint':
      return 'SMALLINT';
    case 'integer':
      return 'INTEGER';
    case 'bigint':
      return 'BIGINT';
    case 'boolean':
      return 'BOOLEAN';
    case 'real':
      return 'FLOAT';
    case 'double precision':
      return 'DOUBLE';
    case 'date':
      return 'DATE';
    case 'timestamp with time zone':
      return 'TIMESTAMPTZ';
    case 'timestamp without time zone':
      return 'TIMESTAMP';
    // UUIDs as their text: every engine reads a string column; Parquet's UUID logical type is not
    // understood by BigQuery, Athena or older Spark.
    case 'uuid':
    case 'text':
    case 'jsonb':
    case 'json':
      return 'VARCHAR';
  }
  if (/^character varying(\(\d+\))?$/.test(pgType)) return 'VARCHAR';
  throw new Error(`column type ${pgType} has no lake type (activities/lake/parquet.ts)`);
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;
const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;

export interface ParquetOptions {
  rowGroupRows: number;
  codec: 'zstd' | 'snappy';
  /** Key-value metadata written into every file's footer. */
  metadata: Record<string, string>;
}

export interface ParquetFile {
  eventDate: string;
  file: string;
  rows: number;
}

/**
 * Writes the rows of `csvFile` (PostgreSQL `COPY ... (FORMAT csv)` of `columns` then the event date)
 * as one Parquet file per event date into `outDir`, ordered by `keyColumn`.
 */
export async function writeParquetByDate(
  duckdb: DuckDb,
  csvFile: string,
  columns: readonly LakeColumn[],
  keyColumn: string,
  outDir: string,
  options: ParquetOptions,
): Promise<ParquetFile[]> {
  const db = await duckdb.connect();
  try {
    // DuckDB SQL, not PostgreSQL's: the paths are this process's own temp files, the names come from
    // pg_attribute and are quoted here, the types from lakeTypeOf, the settings are checked config.
    const source = quote(csvFile);
    const columnTypes = [...columns.map((c) => `${quote(c.name)}: ${quote(lakeTypeOf(c.pgType))}`), `${quote(EVENT_DATE)}: 'DATE'`].join(
      ', ',
    );
    const selectList = columns.map((c) => ident(c.name)).join(', ');
    const eventDateColumn = ident(EVENT_DATE);
    const orderKey = ident(keyColumn);
    const metadata = Object.entries(options.metadata)
      .map(([k, v]) => `${ident(k)}: ${quote(v)}`)
      .join(', ');
    const settings = `FORMAT parquet, COMPRESSION ${options.codec === 'snappy' ? 'snappy' : 'zstd'}, ROW_GROUP_SIZE ${Math.trunc(options.rowGroupRows)}, KV_METADATA {${metadata}}`;
    // Quoted empty strings stay strings; only PostgreSQL's unquoted empty field is NULL. A TEMP table
    // belongs to this connection alone (and goes with it), so concurrent writes never see each other's.
    await db.run(
      `CREATE TEMP TABLE flat AS SELECT * FROM read_csv(${source}, header = false, auto_detect = false, delim = ',', quote = '"',
         escape = '"', allow_quoted_nulls = false, columns = {${columnTypes}})`,
    );
    const dates = await db.runAndReadAll(
      `SELECT strftime(${eventDateColumn}, '%Y-%m-%d') AS d, count(*)::BIGINT AS n FROM flat GROUP BY 1 ORDER BY 1`,
    );
    const files: ParquetFile[] = [];
    for (const row of dates.getRowObjectsJS()) {
      const eventDate = String(row.d);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(eventDate)) throw new Error(`DuckDB gave the event date ${eventDate}`);
      const file = path.join(outDir, `${eventDate}.parquet`);
      const day = quote(eventDate);
      const target = quote(file);
      await db.run(
        `COPY (SELECT ${selectList} FROM flat WHERE ${eventDateColumn} = DATE ${day} ORDER BY ${orderKey}) TO ${target} (${settings})`,
      );
      files.push({ eventDate, file, rows: Number(row.n) });
    }
    return files;
  } finally {
    db.closeSync();
  }
}
