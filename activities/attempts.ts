// What Temporal does not know about an attempt: why it ended. Temporal counts the attempts
// (info.attempt) and hands each one the last heartbeat details of the attempt before, including the
// ones flushed with a failure. So every heartbeat carries a tally beside the work's own progress:
// how many attempts so far ended without an outcome (the worker was killed, ran out of memory, hung:
// they stop heartbeating and no code of ours runs), and how many failed with an error no code
// covers (a bug). A transient failure (an outage) is an outcome and counts in neither, so an outage
// however long never uses up the bound of a later bug. No table, no lock: the history is Temporal's.
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { EtlError } from '../lib/errors';
import type { ActivityDeps } from './deps';

const tallySchema = z.object({
  /** The attempt that sent it. */
  attempt: z.number().int().min(1),
  /** Attempts before it that ended without an outcome. */
  lost: z.number().int().min(0),
  /** Attempts up to it that failed with an unclassified error. */
  unknown: z.number().int().min(0),
  /** It ended with an outcome, or has not begun its unit's work: its death is not counted. */
  ended: z.boolean(),
});
type Tally = z.infer<typeof tallySchema>;
const detailsSchema = z.object({ tally: tallySchema }).passthrough();

interface AttemptState {
  tally: Tally;
  /** The work's own heartbeat details (a cursor), resent with every beat and with a failure. */
  progress: Record<string, unknown>;
  /** Attempts at it are bounded whatever ends them (withAttemptBound): a unit of work that can be parked. */
  bounded: boolean;
}

const attempts = new WeakMap<Context, AttemptState>();

function stateOf(ctx: Context): AttemptState {
  let state = attempts.get(ctx);
  if (state) return state;
  const n = ctx.info.attempt;
  const previous = detailsSchema.safeParse(ctx.info.heartbeatDetails);
  if (previous.success) {
    const { tally: t, ...progress } = previous.data;
    // Attempts after the one that sent the tally sent nothing: each died before its first beat.
    const lost = t.lost + (t.ended ? 0 : 1) + (n - 1 - t.attempt);
    state = { tally: { attempt: n, lost, unknown: t.unknown, ended: false }, progress, bounded: false };
  } else {
    const progress = (ctx.info.heartbeatDetails ?? {}) as Record<string, unknown>;
    state = { tally: { attempt: n, lost: n - 1, unknown: 0, ended: false }, progress, bounded: false };
  }
  attempts.set(ctx, state);
  return state;
}

/**
 * The heartbeat of every activity: `progress` (where the work is, for the next attempt to resume
 * from; ctx.info.heartbeatDetails hands it back) with the attempt's tally beside it.
 */
export function beat(progress?: object, ctx: Context = Context.current()): void {
  const state = stateOf(ctx);
  if (progress) state.progress = progress as Record<string, unknown>;
  ctx.heartbeat({ ...state.progress, tally: state.tally });
}

/** Runs `work` with a beat every few seconds: single statements and other threads cannot beat themselves. */
export async function beating<R>(work: () => Promise<R>): Promise<R> {
  const timer = setInterval(() => beat(), 5_000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/**
 * How a failing attempt ends (asActivity): with its outcome in the tally, flushed with the failure.
 * Returns how many attempts failed unexplained so far, this one included, for the bound on bugs.
 */
export function endAttempt(unclassified: boolean): number {
  const state = stateOf(Context.current());
  state.tally = { ...state.tally, ended: true, unknown: state.tally.unknown + (unclassified ? 1 : 0) };
  beat();
  return state.tally.unknown + (state.bounded ? state.tally.lost : 0);
}

/** One attempt at a time, per worker process, at units that lost attempts before (see withAttemptBound). */
let suspectRunning = false;

/**
 * One attempt at a unit of work that can be given up (an object's transform-and-load, a lake write,
 * a file version's read, a replayed object). Attempts that ended without an outcome count against
 * UNKNOWN_ERROR_MAX_ATTEMPTS with the unclassified failures: at the bound the attempt is refused,
 * final, as ATTEMPTS_LOST (`onRefused` records it where the unit's status lives first), and the
 * unit is given up like a bug: parked, noted, reported, the other units going on.
 *
 * A crash kills every attempt on its worker, and Temporal retries them all together: side by side
 * again, a unit that was merely beside the one that kills the worker would reach the bound with it.
 * So a unit that lost attempts ("a suspect") runs alone among suspects in its process; one that
 * finds another suspect running ends its attempt at once as SUSPECT_WAITING (transient: an outcome,
 * retried with backoff), before it has begun.
 */
export async function withAttemptBound<R>(
  deps: Pick<ActivityDeps, 'config' | 'logger'>,
  unit: string,
  work: () => Promise<R>,
  onRefused?: (err: EtlError) => Promise<void>,
): Promise<R> {
  const state = stateOf(Context.current());
  state.bounded = true;
  const max = deps.config.UNKNOWN_ERROR_MAX_ATTEMPTS;
  const { lost, unknown } = state.tally;
  if (lost + unknown >= max) {
    const err = new EtlError(
      'ATTEMPTS_LOST',
      `${unit}: ${lost} of its attempts ended without an outcome (the worker died or hung: killed, out of memory, a native crash, a timeout)` +
        `${unknown ? ` and ${unknown} failed unexplained` : ''}, the bound UNKNOWN_ERROR_MAX_ATTEMPTS=${max}; not tried again`,
    );
    await onRefused?.(err);
    throw err;
  }
  if (lost === 0) {
    beat();
    return work();
  }
  if (suspectRunning)
    throw new EtlError(
      'SUSPECT_WAITING',
      `${unit}: ${lost} attempt(s) ended without an outcome, and another such unit runs on this worker`,
    );
  suspectRunning = true;
  try {
    deps.logger.warn({ unit, lostAttempts: lost }, `${unit}: ${lost} attempt(s) ended without an outcome; it runs alone among such units`);
    beat();
    return await work();
  } finally {
    suspectRunning = false;
  }
}
