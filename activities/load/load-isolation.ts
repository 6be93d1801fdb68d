// When PostgreSQL refuses a row of an object's bulk load (a value it cannot store, a constraint the
// stream's rules do not know), the rows it refuses are found by bisection and set aside, and every
// other row loads, in the same transaction. Only an object whose bulk load failed comes here: a
// clean object never pays for it.
//
// The silver lines are COPY'd as text (JSON.stringify escapes every control character and unpaired
// surrogate, so text takes any line), numbered in order. A range of lines is merged under a
// savepoint exactly as the staging path merges an object (its own conflict scans, insert and
// derived tables); if PostgreSQL refuses a row, the range is rolled back and its halves are tried,
// down to the single line it refuses. Ranges run in line order, so the earliest offset of a key
// still wins. With k refused rows among n, about 2·k·log2(n/k) ranges are merged.
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

/**
 * Merges the silver lines of `silver` into raw and flat, setting aside the ones PostgreSQL refuses.
 * Needs the temp tables of `createStaging`; runs inside the caller's transaction.
 */
export async function mergeSettingAsideRefused(client: pg.PoolClient, spec: StreamSpec, target: MergeTarget, silver: Readable, hooks: LoadHooks = {}): Promise<IsolatedMerge> {
  await client.query('CREATE TEMP TABLE staging_lines (line_no int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, line text NOT NULL) ON COMMIT DROP');
  await pipeline(silver, client.query(copyFrom(COPY_LINES)));
  const { rows: [range] } = await client.query<{ first: number | null; last: number | null }>('SELECT min(line_no) AS first, max(line_no) AS last FROM staging_lines');
  const totals: IsolatedMerge = { rowsIn: 0, inserted: 0, duplicates: 0, conflicts: 0, conflictKeys: [], refused: [] };
  const refusedLines = new Map<number, Omit<RefusedLine, 'line'>>();
  // A stack of line ranges, the lowest on top: the halves of a refused range are pushed high first.
  const pending: [number, number][] = range?.first == null ? [] : [[range.first, range.last!]];
  while (pending.length > 0) {
    const [first, last] = pending.pop()!;
    await client.query('SAVEPOINT set_aside_refused');
    try {
      await client.query('DELETE FROM staging');
      await client.query('INSERT INTO staging (doc) SELECT line::jsonb FROM staging_lines WHERE line_no BETWEEN $1 AND $2 ORDER BY line_no', [first, last]);
      const merged = await mergeStaging(client, spec, target, hooks);
      await client.query('RELEASE SAVEPOINT set_aside_refused');
      totals.rowsIn += merged.rowsIn;
      totals.inserted += merged.inserted;
      totals.duplicates += merged.duplicates;
      totals.conflicts += merged.conflicts;
      totals.conflictKeys.push(...merged.conflictKeys);
    } catch (err) {
      await client.query('ROLLBACK TO SAVEPOINT set_aside_refused');
      if (!isRefusedRow(err)) throw err;
      if (first === last) {
        refusedLines.set(first, { sqlState: sqlState(err)!, message: serverMessage(err) });
      } else {
        const mid = Math.floor((first + last) / 2);
        pending.push([mid + 1, last], [first, mid]);
      }
    }
  }
  await client.query('DELETE FROM staging');
  if (refusedLines.size > 0) {
    const { rows } = await client.query<{ line_no: number; line: string }>('SELECT line_no, line FROM staging_lines WHERE line_no = ANY($1::int[]) ORDER BY line_no', [[...refusedLines.keys()]]);
    totals.refused = rows.map((r) => ({ line: r.line, ...refusedLines.get(r.line_no)! }));
  }
  await client.query('DROP TABLE staging_lines');
  return totals;
}
