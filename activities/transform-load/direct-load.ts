// The fast path of an object load: when none of the object's keys is loaded yet and none repeats
// inside it (the common case), its rows are COPied straight into the raw and flat tables, the way a
// bare COPY would write them, instead of staged as jsonb and merged with INSERT … ON CONFLICT. The
// one pass (pass.ts) has already encoded the rows as CSV in local files; the bench shows what it saves.
// Whenever the fast path cannot prove the rows are new, it steps aside and the caller takes the
// staging path, which handles duplicates and conflicts; both write the same rows. It steps aside
// too when PostgreSQL refuses a row (a value or a constraint): the caller then finds that row.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { StreamSpec } from '../../streams/types';
import { SQLSTATE, sqlState } from '../../lib/postgres';
import { unlessRefused } from './load-isolation';
import { ident } from '../../lib/sql';
import { LINEAGE } from './rows';

/** The CSV files of the pass (rows.ts), and how many rows each holds. */
export interface DirectLoadRows {
  raw: string;
  flat: string;
  rows: number;
}

/**
 * What the fast path did: inserted every row, or stepped aside (rolled back to its savepoint) because
 * a key is taken (`key`: the staging path's job) or PostgreSQL refused a row (`row`).
 */
export type DirectLoadOutcome = { inserted: number } | { steppedAside: 'key' | 'row' };

/**
 * No look-up runs first: the key's unique index is the check. A key already loaded, repeated in the
 * object, or committed meanwhile by another load fails the COPY, which is rolled back to its savepoint.
 */
export async function tryDirectLoad(client: pg.PoolClient, spec: StreamSpec, rows: DirectLoadRows): Promise<DirectLoadOutcome> {
  const raw = ident(spec.rawTable);
  const flat = ident(spec.flatTable);
  const key = ident(spec.keyColumn);
  const flatColumns = spec.flatColumns.map(ident).join(', ');
  const r = await unlessRefused(client, async () => {
    await pipeline(
      createReadStream(rows.raw),
      client.query(copyFrom(`COPY ${raw} (${key}, event_ts, payload, ${LINEAGE}) FROM STDIN WITH (FORMAT csv)`)),
    );
    await pipeline(
      createReadStream(rows.flat),
      client.query(copyFrom(`COPY ${flat} (${key}, ${flatColumns}, ${LINEAGE}) FROM STDIN WITH (FORMAT csv)`)),
    );
  });
  if ('value' in r) return { inserted: rows.rows };
  // Duplicates and conflicting keys are the staging path's job. A unique violation is always
  // read as a key: were it another unique index, the staging path finds and sets the row aside.
  return { steppedAside: sqlState(r.refused) === SQLSTATE.UNIQUE_VIOLATION ? 'key' : 'row' };
}
