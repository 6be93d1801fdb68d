// The work queue of the transform-and-load pass is the manifest: archived objects not loaded yet, oldest
// first. A pipeline run lists a page of it; a continuous stream long-polls it, so that an object a
// follower has just written is picked up at once without a workflow timer (and history) per check.
// Parked objects (lib/parked.ts) are skipped, so one that cannot be loaded blocks nothing behind it.
import { Context } from '@temporalio/activity';
import { isParkedSql } from '../lib/parked';
import type { ActivityDeps } from './deps';
import type { PendingObject } from './types';
import { beat } from './attempts';

const POLL_MS = 200;

export async function listUnloaded(deps: ActivityDeps, input: { stream: string; limit: number }): Promise<PendingObject[]> {
  const { rows } = await deps.pool.query<{ id: string; object_key: string; record_count: number }>(
    `SELECT id, object_key, record_count FROM bronze_objects
     WHERE stream = $1 AND status = 'archived' AND loaded_at IS NULL AND NOT ${isParkedSql()} ORDER BY id LIMIT $2`,
    [input.stream, input.limit],
  );
  return rows.map((r) => ({
    bronzeObjectId: Number(r.id),
    objectKey: r.object_key,
    recordCount: r.record_count,
  }));
}

/** The first page of unloaded objects as soon as there is one, or an empty page after `waitMs`. */
export async function awaitUnloaded(
  deps: ActivityDeps,
  input: { stream: string; limit: number; waitMs: number },
): Promise<PendingObject[]> {
  const ctx = Context.current();
  const until = Date.now() + input.waitMs;
  for (;;) {
    const page = await listUnloaded(deps, input);
    if (page.length > 0 || Date.now() >= until) return page;
    beat();
    await ctx.sleep(Math.min(POLL_MS, until - Date.now()));
  }
}
