// When PostgreSQL refuses a row of an object's bulk load (a value it cannot store, a constraint the
// stream's rules do not know), the rows it refuses are found and set aside, and every other row
// loads, in the same transaction. Only an object whose bulk load failed comes here: a clean object
// never pays for it.
//
// The silver lines are COPY'd as text (JSON.stringify escapes every control character and unpaired
// surrogate, so text takes any line), numbered in order. Then:
// 1. One server-side pass tries the stream's own insert, 512 lines at a time and, in a chunk it
//    refuses, line by line, each try in a subtransaction that is always rolled back; it returns the
//    lines PostgreSQL refuses alone, with the SQLSTATE and message (pg_temp.etl_refused_lines). One
//    statement, no round trip per line.
// 2. The other lines are merged as the staging path merges any object, in line order.
// 3. Only if that merge is still refused (rows that fail together but not alone, e.g. two of them
//    colliding on a unique index other than the key) are the lines bisected: a range is merged
//    under a savepoint, and a refused range is split in two down to the line PostgreSQL refuses.
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { StreamSpec } from '../../streams/types';
import { SQLSTATE, sqlState } from '../../lib/errors';
import { mergeStaging, type LoadHooks, type MergeCounts, type MergeTarget } from './staging';

/** SQLSTATE classes of a refused row: data exception (22…) and integrity constraint violation (23…). */
const REFUSED_ROW_CLASSES = ['22', '23'];
/** Beyond those classes, limits one row's value can break: an index entry too big, jsonb nested too deep. */
const REFUSED_ROW_STATES = new Set<string>([SQLSTATE.PROGRAM_LIMIT_EXCEEDED, SQLSTATE.STATEMENT_TOO_COMPLEX]);

/**
 * Whether `err` is PostgreSQL refusing a row for what it holds, rather than the server, the
 * connection or the code failing: retrying the same rows cannot succeed; setting them aside can.
 */
export function isRefusedRow(err: unknown): boolean {
  const state = sqlState(err);
  return state !== undefined && (REFUSED_ROW_CLASSES.includes(state.slice(0, 2)) || REFUSED_ROW_STATES.has(state));
}

export interface RefusedLine {
  /** The silver line as written by the transform: its flat row, payload and Kafka coordinates. */
  line: string;
  sqlState: string;
  /** The server's message, with its detail when it gave one. */
  message: string;
}

export interface IsolatedMerge extends MergeCounts {
  refused: RefusedLine[];
}

const COPY_LINES = "COPY staging_lines (line) FROM STDIN WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')";

function serverMessage(err: unknown): string {
  const e = err as { message?: string; detail?: string };
  const detail = e.detail ? ` (${e.detail.length > 300 ? `${e.detail.slice(0, 299)}…` : e.detail})` : '';
  return `${e.message ?? String(err)}${detail}`;
}

// Finds the staged lines the stream's insert refuses, without keeping anything: each chunk of
// CHUNK_LINES lines is tried at once (EXECUTE of the insert as given), and only a refused chunk is
// tried line by line. Each try reads `staging`, a view of the lines between etl.probe_first and
// etl.probe_last, and is undone by raising ETLOK. The line-by-line insert is the same generated
// insertFromStagingSql (code, not data) spliced in as static SQL, so PL/pgSQL plans it once; its
// $1 and $2 are the function's load_id and bronze_object_id.
const REFUSED_LINES_FUNCTION = `
CREATE OR REPLACE FUNCTION pg_temp.etl_refused_lines(load_id bigint, bronze_object_id bigint, insert_sql text, chunk int)
RETURNS TABLE (refused_line int, refused_state text, refused_message text)
LANGUAGE plpgsql AS $fn$
DECLARE
  lo int;
  n int;
  refused boolean;
  ignored text;
  detail text;
BEGIN
  FOR lo IN SELECT generate_series(min(l.line_no), max(l.line_no), chunk) FROM staging_lines l LOOP
    PERFORM set_config('etl.probe_first', lo::text, true), set_config('etl.probe_last', (lo + chunk - 1)::text, true);
    refused := false;
    BEGIN
      EXECUTE insert_sql USING load_id, bronze_object_id;
      RAISE SQLSTATE 'ETLOK';
    EXCEPTION
      WHEN SQLSTATE 'ETLOK' THEN NULL;
      WHEN data_exception OR integrity_constraint_violation OR SQLSTATE '54000' OR SQLSTATE '54001' THEN refused := true;
    END;
    CONTINUE WHEN NOT refused;
    FOR n IN lo .. lo + chunk - 1 LOOP
      PERFORM set_config('etl.probe_first', n::text, true), set_config('etl.probe_last', n::text, true);
      BEGIN
        /* the stream's insert */ INTO ignored;
        RAISE SQLSTATE 'ETLOK';
      EXCEPTION
        WHEN SQLSTATE 'ETLOK' THEN NULL;
        WHEN data_exception OR integrity_constraint_violation OR SQLSTATE '54000' OR SQLSTATE '54001' THEN
          GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
          refused_line := n;
          refused_state := SQLSTATE;
          refused_message := SQLERRM || coalesce(' (' || nullif(detail, '') || ')', '');
          RETURN NEXT;
      END;
    END LOOP;
  END LOOP;
END
$fn$`;

/** Lines tried at once before one by one: a clean chunk costs one set-based insert, a refused one a try per line. */
const CHUNK_LINES = 512;

/** Step 1: the lines PostgreSQL refuses, each alone. The staging table steps aside for a view of the same name. */
async function refusedOneByOne(
  client: pg.PoolClient,
  spec: StreamSpec,
  target: MergeTarget,
): Promise<Map<number, Omit<RefusedLine, 'line'>>> {
  await client.query(REFUSED_LINES_FUNCTION.replace("/* the stream's insert */", spec.insertFromStagingSql));
  await client.query('ALTER TABLE staging RENAME TO staging_merge');
  await client.query(`CREATE TEMP VIEW staging AS SELECT line::jsonb AS doc FROM staging_lines
    WHERE line_no BETWEEN current_setting('etl.probe_first')::int AND current_setting('etl.probe_last')::int`);
  const { rows } = await client.query<{ refused_line: number; refused_state: string; refused_message: string }>(
    'SELECT refused_line, refused_state, refused_message FROM pg_temp.etl_refused_lines($1, $2, $3, $4)',
    [target.loadId, target.bronzeObjectId, spec.insertFromStagingSql, CHUNK_LINES],
  );
  await client.query('DROP VIEW staging');
  await client.query('ALTER TABLE staging_merge RENAME TO staging');
  return new Map(rows.map((r) => [r.refused_line, { sqlState: r.refused_state, message: r.refused_message }]));
}

function addCounts(totals: IsolatedMerge, merged: MergeCounts): void {
  totals.rowsIn += merged.rowsIn;
  totals.inserted += merged.inserted;
  totals.duplicates += merged.duplicates;
  totals.conflicts += merged.conflicts;
  totals.conflictKeys.push(...merged.conflictKeys);
}

/** Steps 2 and 3: merges the lines of [first, last] not in `refused`, bisecting if PostgreSQL still refuses some. */
async function mergeBisecting(
  client: pg.PoolClient,
  spec: StreamSpec,
  target: MergeTarget,
  first: number,
  last: number,
  refused: Map<number, Omit<RefusedLine, 'line'>>,
  totals: IsolatedMerge,
  hooks: LoadHooks,
): Promise<void> {
  // A stack of line ranges, the lowest on top: the halves of a refused range are pushed high first.
  const pending: [number, number][] = [[first, last]];
  while (pending.length > 0) {
    const [lo, hi] = pending.pop()!;
    await client.query('SAVEPOINT set_aside_refused');
    try {
      await client.query('TRUNCATE staging');
      await client.query(
        'INSERT INTO staging (doc) SELECT line::jsonb FROM staging_lines WHERE line_no BETWEEN $1 AND $2 AND NOT line_no = ANY($3::int[]) ORDER BY line_no',
        [lo, hi, [...refused.keys()]],
      );
      addCounts(totals, await mergeStaging(client, spec, target, hooks));
      await client.query('RELEASE SAVEPOINT set_aside_refused');
    } catch (err) {
      await client.query('ROLLBACK TO SAVEPOINT set_aside_refused');
      if (!isRefusedRow(err)) throw err;
      if (lo === hi) {
        refused.set(lo, { sqlState: sqlState(err)!, message: serverMessage(err) });
      } else {
        const mid = Math.floor((lo + hi) / 2);
        pending.push([mid + 1, hi], [lo, mid]);
      }
    }
  }
}

/**
 * Merges the silver lines of `silver` into raw and flat, setting aside the ones PostgreSQL refuses.
 * Needs the temp tables of `createStaging`; runs inside the caller's transaction.
 */
export async function mergeSettingAsideRefused(
  client: pg.PoolClient,
  spec: StreamSpec,
  target: MergeTarget,
  silver: Readable,
  hooks: LoadHooks = {},
): Promise<IsolatedMerge> {
  await client.query(
    'CREATE TEMP TABLE staging_lines (line_no int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, line text NOT NULL) ON COMMIT DROP',
  );
  await pipeline(silver, client.query(copyFrom(COPY_LINES)));
  const {
    rows: [range],
  } = await client.query<{ first: number | null; last: number | null }>(
    'SELECT min(line_no) AS first, max(line_no) AS last FROM staging_lines',
  );
  const totals: IsolatedMerge = { rowsIn: 0, inserted: 0, duplicates: 0, conflicts: 0, conflictKeys: [], refused: [] };
  if (range?.first != null) {
    const refused = await refusedOneByOne(client, spec, target);
    await mergeBisecting(client, spec, target, range.first, range.last!, refused, totals, hooks);
    if (refused.size > 0) {
      const { rows } = await client.query<{ line_no: number; line: string }>(
        'SELECT line_no, line FROM staging_lines WHERE line_no = ANY($1::int[]) ORDER BY line_no',
        [[...refused.keys()]],
      );
      totals.refused = rows.map((r) => ({ line: r.line, ...refused.get(r.line_no)! }));
    }
  }
  await client.query('TRUNCATE staging');
  await client.query('DROP TABLE staging_lines');
  return totals;
}
