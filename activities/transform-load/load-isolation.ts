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
// The steps are exported apart: a replay from bronze (activities/replay/replay-refused.ts) probes
// its own statements (the update of loaded rows, then the insert of quarantined ones) and merges
// each range its own way, with the same search.
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { StreamSpec } from '../../streams/types';
import { SQLSTATE, sqlState } from '../../lib/postgres';
import { mergeStaging, type MergeCounts, type MergeTarget } from './staging';

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

/**
 * Runs `attempt` under a savepoint. When PostgreSQL refuses a row of it (isRefusedRow), everything
 * it did is rolled back and the refusal comes back as `{ refused }`, for the caller to take another
 * path; any other error is thrown, after the same rollback, so the transaction stays usable.
 */
export async function unlessRefused<T>(client: pg.PoolClient, attempt: () => Promise<T>): Promise<{ value: T } | { refused: unknown }> {
  await client.query('SAVEPOINT unless_refused');
  try {
    const value = await attempt();
    await client.query('RELEASE SAVEPOINT unless_refused');
    return { value };
  } catch (err) {
    await client.query('ROLLBACK TO SAVEPOINT unless_refused');
    if (!isRefusedRow(err)) throw err;
    return { refused: err };
  }
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

/** Why PostgreSQL refused one line, by its line number in `staging_lines`. */
export type Refusals = Map<number, Omit<RefusedLine, 'line'>>;

/** Lines `first` to `last` of `staging_lines`, both included. */
export interface LineRange {
  first: number;
  last: number;
}

const COPY_LINES = "COPY staging_lines (line) FROM STDIN WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')";

function serverMessage(err: unknown): string {
  const e = err as { message?: string; detail?: string };
  const detail = e.detail ? ` (${e.detail.length > 300 ? `${e.detail.slice(0, 299)}…` : e.detail})` : '';
  return `${e.message ?? String(err)}${detail}`;
}

// Finds the staged lines a statement refuses (the stream's insert, or a replay's update), without
// keeping anything: each chunk of CHUNK_LINES lines of [first, last] is tried at once (EXECUTE of
// the statement as given), and only a refused chunk is tried line by line. Each try reads
// `staging`, a view of the lines between etl.probe_first and etl.probe_last, and is undone by
// raising ETLOK. The line-by-line try is the same generated statement (code, not data) spliced in
// as static SQL, so PL/pgSQL plans it once; its $1 and $2, if it has them, are the function's
// load_id and bronze_object_id. Its RETURNING row, whatever its shape, goes into a record.
const REFUSED_LINES_FUNCTION = `
CREATE OR REPLACE FUNCTION pg_temp.etl_refused_lines(load_id bigint, bronze_object_id bigint, statement_sql text, chunk int, first int, last int)
RETURNS TABLE (refused_line int, refused_state text, refused_message text)
LANGUAGE plpgsql AS $fn$
DECLARE
  lo int;
  n int;
  refused boolean;
  ignored record;
  detail text;
BEGIN
  FOR lo IN SELECT generate_series(first, last, chunk) LOOP
    PERFORM set_config('etl.probe_first', lo::text, true), set_config('etl.probe_last', least(lo + chunk - 1, last)::text, true);
    refused := false;
    BEGIN
      EXECUTE statement_sql USING load_id, bronze_object_id;
      RAISE SQLSTATE 'ETLOK';
    EXCEPTION
      WHEN SQLSTATE 'ETLOK' THEN NULL;
      WHEN data_exception OR integrity_constraint_violation OR SQLSTATE '54000' OR SQLSTATE '54001' THEN refused := true;
    END;
    CONTINUE WHEN NOT refused;
    FOR n IN lo .. least(lo + chunk - 1, last) LOOP
      PERFORM set_config('etl.probe_first', n::text, true), set_config('etl.probe_last', n::text, true);
      BEGIN
        /* the statement */ INTO ignored;
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

/** The table of numbered silver lines the steps below read; dropped at commit. */
export async function createStagingLines(client: pg.PoolClient): Promise<void> {
  await client.query(
    'CREATE TEMP TABLE staging_lines (line_no int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, line text NOT NULL) ON COMMIT DROP',
  );
}

/** The first and last line numbers of `staging_lines`, or undefined when it holds none. */
export async function stagedLineRange(client: pg.PoolClient): Promise<LineRange | undefined> {
  const {
    rows: [range],
  } = await client.query<{ first: number | null; last: number | null }>(
    'SELECT min(line_no) AS first, max(line_no) AS last FROM staging_lines',
  );
  return range?.first != null ? { first: range.first, last: range.last! } : undefined;
}

/**
 * Step 1: the lines of `range` that `statementSql` (reading `staging`; $1 load_id, $2
 * bronze_object_id if it uses them) is refused for, each alone. Nothing it tries is kept. The
 * staging table steps aside meanwhile for a view of the same name.
 */
export async function refusedAlone(client: pg.PoolClient, statementSql: string, target: MergeTarget, range: LineRange): Promise<Refusals> {
  await client.query(REFUSED_LINES_FUNCTION.replace('/* the statement */', statementSql));
  await client.query('ALTER TABLE staging RENAME TO staging_merge');
  await client.query(`CREATE TEMP VIEW staging AS SELECT line::jsonb AS doc FROM staging_lines
    WHERE line_no BETWEEN current_setting('etl.probe_first')::int AND current_setting('etl.probe_last')::int`);
  const { rows } = await client.query<{ refused_line: number; refused_state: string; refused_message: string }>(
    'SELECT refused_line, refused_state, refused_message FROM pg_temp.etl_refused_lines($1, $2, $3, $4, $5, $6)',
    [target.loadId, target.bronzeObjectId, statementSql, CHUNK_LINES, range.first, range.last],
  );
  await client.query('DROP VIEW staging');
  await client.query('ALTER TABLE staging_merge RENAME TO staging');
  return new Map(rows.map((r) => [r.refused_line, { sqlState: r.refused_state, message: r.refused_message }]));
}

/**
 * Steps 2 and 3: `merge` runs on `staging` filled with the lines of `range` not in `refused`, in
 * line order, under a savepoint; if PostgreSQL still refuses a row, the range is bisected down to
 * the lines it refuses, which join `refused`. Returns what each merge that committed returned, in
 * line order: a merge rolled back counts nothing.
 */
export async function mergeBisecting<T>(client: pg.PoolClient, range: LineRange, refused: Refusals, merge: () => Promise<T>): Promise<T[]> {
  const merged: T[] = [];
  // A stack of line ranges, the lowest on top: the halves of a refused range are pushed high first.
  const pending: [number, number][] = [[range.first, range.last]];
  while (pending.length > 0) {
    const [lo, hi] = pending.pop()!;
    const r = await unlessRefused(client, async () => {
      await client.query('TRUNCATE staging');
      await client.query(
        'INSERT INTO staging (doc) SELECT line::jsonb FROM staging_lines WHERE line_no BETWEEN $1 AND $2 AND NOT line_no = ANY($3::int[]) ORDER BY line_no',
        [lo, hi, [...refused.keys()]],
      );
      return merge();
    });
    if ('value' in r) {
      merged.push(r.value);
    } else if (lo === hi) {
      refused.set(lo, { sqlState: sqlState(r.refused)!, message: serverMessage(r.refused) });
    } else {
      const mid = Math.floor((lo + hi) / 2);
      pending.push([mid + 1, hi], [lo, mid]);
    }
  }
  return merged;
}

/** The refused lines with their text, in line order. */
export async function refusedLines(client: pg.PoolClient, refused: Refusals): Promise<RefusedLine[]> {
  if (refused.size === 0) return [];
  const { rows } = await client.query<{ line_no: number; line: string }>(
    'SELECT line_no, line FROM staging_lines WHERE line_no = ANY($1::int[]) ORDER BY line_no',
    [[...refused.keys()]],
  );
  return rows.map((r) => ({ line: r.line, ...refused.get(r.line_no)! }));
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
): Promise<IsolatedMerge> {
  await createStagingLines(client);
  await pipeline(silver, client.query(copyFrom(COPY_LINES)));
  const totals: IsolatedMerge = { rowsIn: 0, inserted: 0, duplicates: 0, conflicts: 0, conflictKeys: [], refused: [] };
  const range = await stagedLineRange(client);
  if (range) {
    const refused = await refusedAlone(client, spec.insertFromStagingSql, target, range);
    for (const merged of await mergeBisecting(client, range, refused, () => mergeStaging(client, spec, target))) addCounts(totals, merged);
    totals.refused = await refusedLines(client, refused);
  }
  await client.query('TRUNCATE staging');
  await client.query('DROP TABLE staging_lines');
  return totals;
}

function addCounts(totals: IsolatedMerge, merged: MergeCounts): void {
  totals.rowsIn += merged.rowsIn;
  totals.inserted += merged.inserted;
  totals.duplicates += merged.duplicates;
  totals.conflicts += merged.conflicts;
  totals.conflictKeys.push(...merged.conflictKeys);
}
