// The attempt ledger (migrations/018_attempt_ledger.sql): the bound on attempts that end without an
// outcome. A crash or a hang leaves nothing for asActivity to classify, and Temporal retries the
// timeout that follows without limit; counted here, such attempts get the same bound as an
// unclassified error (UNKNOWN_ERROR_MAX_ATTEMPTS), after which the unit is given up like a bug:
// parked, noted, reported, with the other units going on.
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import { z } from 'zod';
import { EtlError } from '../lib/errors';
import type { ActivityDeps } from './deps';

/** Units of work by kind; the ledger's key. */
export const unitOf = {
  transformLoad: (bronzeObjectId: number) => `transform-load:${bronzeObjectId}`,
  lake: (bronzeObjectId: number) => `lake:${bronzeObjectId}`,
  sourceRead: (unitId: number) => `source-read:${unitId}`,
  /** Per replay run: running the same replay again (a new run) tries its objects afresh. */
  replay: (runKey: string, bronzeObjectId: number) => `replay:${runKey}:${bronzeObjectId}`,
};

export interface LedgerEntry {
  /** Attempts since the unit's last outcome, the one starting now included. */
  openAttempts: number;
}

/**
 * Signs an attempt in. Refuses (ATTEMPTS_LOST, final) when `max` attempts since the last outcome
 * were lost already; a refusal is not an attempt, so the count stays where it is until an outcome
 * elsewhere (a person's retry) clears it. `previousEnded`: the previous attempt of this activity
 * ended with an outcome it could not sign out (PostgreSQL was down), so it is not counted lost.
 */
export async function beginAttempt(
  pool: pg.Pool,
  unit: string,
  max: number,
  who: { workflowId?: string; attempt?: number; previousEnded?: boolean } = {},
) {
  const { rows } = await pool.query<{ open_attempts: number }>(
    `INSERT INTO unit_attempts AS a (unit, open_attempts, workflow_id, activity_attempt) VALUES ($1, 1, $2, $3)
     ON CONFLICT (unit) DO UPDATE SET open_attempts = CASE WHEN $5 THEN 1 ELSE a.open_attempts + 1 END,
       last_started_at = now(), workflow_id = $2, activity_attempt = $3
       WHERE $5 OR a.open_attempts < $4
     RETURNING open_attempts`,
    [unit, who.workflowId ?? null, who.attempt ?? null, max, who.previousEnded ?? false],
  );
  if (rows[0]) return { openAttempts: rows[0].open_attempts } satisfies LedgerEntry;
  throw new EtlError(
    'ATTEMPTS_LOST',
    `${unit}: its last ${max} attempts ended without an outcome (the worker died or hung: killed, out of memory, a native crash, a timeout); not tried again`,
  );
}

/** An attempt ended with an outcome (a result or a classified failure): the lost ones are forgiven. */
export async function endAttempt(pool: pg.Pool | pg.PoolClient, unit: string): Promise<void> {
  await pool.query('DELETE FROM unit_attempts WHERE unit = $1', [unit]);
}

/**
 * What a failed attempt heartbeats last. Temporal sends an attempt's final heartbeat with its
 * failure (never throttled away), and hands it to the next attempt as its heartbeat details; a
 * crash leaves whatever the attempt heartbeated before. So the next attempt can tell an outcome
 * that could not sign out of the ledger (PostgreSQL down) from a lost attempt.
 */
const endedMarker = z.object({ attemptEnded: z.string(), attempt: z.number().int() });

/** Attempts since the unit's last outcome that never ended: lost, unless the marker says otherwise. */
async function lostAttempts(pool: pg.Pool, unit: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT open_attempts AS n FROM unit_attempts WHERE unit = $1', [unit]);
  return rows[0]?.n ?? 0;
}

/**
 * Per schema (one deployment, or one test's isolation): a suspect held up in one deployment must
 * not hold up another's sharing the server.
 */
export const suspectsLockKey = (config: Pick<ActivityDeps['config'], 'PG_SCHEMA'>) => `etl.attempts.suspects.${config.PG_SCHEMA}`;

/**
 * Attempts at units that lost attempts before ("suspects") run one at a time. A crash kills every
 * attempt in flight on its worker, and Temporal retries them all at once after their heartbeat
 * timeout: side by side again, the units that were merely beside the one that crashes the worker
 * would keep losing attempts with it and reach the bound too. One suspect at a time, only the one
 * that kills its worker keeps losing attempts; a suspect waiting its turn has not signed in, so its
 * death is not counted. The lock is a session lock on a connection of its own, taken by polling so
 * that waiting holds no connection, and let go when the attempt ends or is cancelled (a hung
 * suspect times out, and does not hold up the others past that).
 */
async function runAsOnlySuspect(pool: pg.Pool, lockKey: string, ctx: Context): Promise<{ release: () => void }> {
  const passOn = ctx.info.heartbeatDetails; // waiting must not overwrite the previous attempt's marker
  for (;;) {
    const client = await pool.connect();
    let locked = false;
    try {
      locked = (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [lockKey])).rows[0]!.ok;
    } finally {
      if (!locked) client.release();
    }
    if (locked) {
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        ctx.cancellationSignal.removeEventListener('abort', release);
        client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).then(
          () => client.release(),
          (err: Error) => client.release(err), // a broken session let its lock go with it
        );
      };
      ctx.cancellationSignal.addEventListener('abort', release);
      return { release };
    }
    ctx.heartbeat(passOn);
    await ctx.sleep(1_000); // rejects when the attempt is cancelled
  }
}

/**
 * Runs one attempt at `unit` inside the ledger. `onRefused` records the refusal where the unit's
 * own status lives (the lake's row, the file version) before the final failure is thrown.
 */
export async function withAttemptLedger<R>(
  deps: Pick<ActivityDeps, 'pool' | 'config' | 'logger'>,
  unit: string,
  work: () => Promise<R>,
  onRefused?: (err: EtlError) => Promise<void>,
): Promise<R> {
  const ctx = Context.current();
  const previous = endedMarker.safeParse(ctx.info.heartbeatDetails);
  // Only the attempt right before this one: a marker older than that means the attempts between
  // died before their first heartbeat reached Temporal (which would otherwise replace it).
  const previousEnded = previous.success && previous.data.attemptEnded === unit && previous.data.attempt === ctx.info.attempt - 1;
  try {
    return await signedIn(deps, ctx, unit, previousEnded, work, onRefused);
  } catch (err) {
    // Whatever failed, and wherever (even the sign-in, whose commit may have landed before the
    // connection dropped), this attempt ended with an outcome: the next one must not count it lost.
    ctx.heartbeat({ attemptEnded: unit, attempt: ctx.info.attempt } satisfies z.infer<typeof endedMarker>);
    throw err;
  }
}

async function signedIn<R>(
  deps: Pick<ActivityDeps, 'pool' | 'config' | 'logger'>,
  ctx: Context,
  unit: string,
  previousEnded: boolean,
  work: () => Promise<R>,
  onRefused?: (err: EtlError) => Promise<void>,
): Promise<R> {
  const max = deps.config.UNKNOWN_ERROR_MAX_ATTEMPTS;
  const lost = previousEnded ? 0 : await lostAttempts(deps.pool, unit);
  const suspect = lost > 0 && lost < max ? await runAsOnlySuspect(deps.pool, suspectsLockKey(deps.config), ctx) : undefined;
  try {
    let entry: LedgerEntry;
    try {
      entry = await beginAttempt(deps.pool, unit, max, {
        workflowId: ctx.info.workflowExecution?.workflowId,
        attempt: ctx.info.attempt,
        previousEnded,
      });
    } catch (err) {
      if (err instanceof EtlError && err.code === 'ATTEMPTS_LOST') await onRefused?.(err);
      throw err;
    }
    // Replaces the previous attempt's marker at once (a first heartbeat is not throttled): if this
    // attempt dies, the next one must not read that marker as this attempt's outcome.
    ctx.heartbeat({ attemptStarted: unit });
    if (entry.openAttempts > 1)
      deps.logger.warn(
        { unit, lostAttempts: entry.openAttempts - 1 },
        `${unit}: ${entry.openAttempts - 1} attempt(s) ended without an outcome; it runs alone among such units`,
      );
    try {
      return await work();
    } finally {
      // When PostgreSQL is down the row stays; the marker the caller heartbeats tells the next attempt.
      await endAttempt(deps.pool, unit).catch((err: unknown) =>
        deps.logger.warn({ unit, err: err instanceof Error ? err.message : String(err) }, `${unit}: could not close its attempt`),
      );
    }
  } finally {
    suspect?.release();
  }
}
