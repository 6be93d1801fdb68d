// Holding a load at a known point with PostgreSQL's own locks, instead of a hook in the product: a
// transaction of the test locks a bronze object's manifest row, so the object's load stops at its
// manifest update (the last statement before its commit, every row written), and pg_stat_activity
// says which session waits on which and in what statement.
import type pg from 'pg';

/** A session of the test holding the manifest row of one bronze object, until `release`. */
export interface HeldRow {
  /** The backend of the session that holds the lock. */
  pid: number;
  release(): Promise<void>;
}

/**
 * Locks bronze object `id`'s manifest row FOR NO KEY UPDATE: a load of it waits at its manifest
 * update, while inserts that reference the row (their foreign keys take KEY SHARE) still go through.
 */
export async function holdManifestRow(pool: pg.Pool, id: number): Promise<HeldRow> {
  const client = await pool.connect();
  await client.query('BEGIN');
  await client.query('SELECT 1 FROM bronze_objects WHERE id = $1 FOR NO KEY UPDATE', [id]);
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return {
    pid: rows[0]!.pid,
    release: async () => {
      try {
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    },
  };
}

/** The session waiting on a lock that backend `pid` holds, and the statement it waits in, once there is one. */
export async function waitingOn(pool: pg.Pool, pid: number): Promise<{ pid: number; query: string }> {
  for (let i = 0; i < 600; i++) {
    const { rows } = await pool.query<{ pid: number; query: string }>(
      'SELECT pid, query FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) ORDER BY pid LIMIT 1',
      [pid],
    );
    if (rows[0]) return rows[0];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no session ever waited on backend ${pid}`);
}
