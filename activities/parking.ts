// Parking and un-parking bronze objects (lib/parked.ts says what parked means). The workflow parks
// an object once its transform or load failed for good, so that the run goes on with the others;
// `etl objects retry` un-parks it, after the fix, to be transformed and loaded exactly once.
import { EtlError } from '../lib/errors';
import { isParkedSql } from '../lib/parked';
import type { ActivityDeps } from './deps';
import type { PendingObject } from './types';

export interface ParkInput {
  stream: string;
  bronzeObjectId: number;
  /** The step that failed: the one pass over the object (activities/transform-load). */
  step: 'transform-load';
  /** The failure's type: a code of lib/errors.ts. */
  code: string;
  message: string;
  stack?: string;
  attempts?: number;
  workflowId?: string;
}

/** False when the object was loaded meanwhile (by another workflow): there is nothing to park. */
export async function parkObject(deps: ActivityDeps, input: ParkInput): Promise<{ parked: boolean }> {
  const { rowCount } = await deps.pool.query(
    `UPDATE bronze_objects SET parked_at = coalesce(parked_at, now()), failure_code = $3, failure_message = $4, failure_stack = $5,
       failure_attempts = $6, failure_step = $7, failure_workflow_id = $8, park_count = park_count + (NOT ${isParkedSql()})::int
     WHERE id = $1 AND stream = $2 AND loaded_at IS NULL`,
    [
      input.bronzeObjectId,
      input.stream,
      input.code,
      input.message,
      input.stack ?? null,
      input.attempts ?? null,
      input.step,
      input.workflowId ?? null,
    ],
  );
  const parked = (rowCount ?? 0) > 0;
  if (parked) {
    deps.logger.warn(
      {
        stream: input.stream,
        bronzeObjectId: input.bronzeObjectId,
        step: input.step,
        code: input.code,
        attempts: input.attempts,
        workflowId: input.workflowId,
      },
      `parked bronze object ${input.bronzeObjectId}: ${input.message}`,
    );
  }
  return { parked };
}

export interface UnparkResult {
  /** Loaded already (by a previous retry or another run): nothing to do. */
  loaded: boolean;
  /** It was parked until this call. */
  wasParked: boolean;
  /** What to transform and load now; null when loaded. */
  object: PendingObject | null;
}

export async function unparkObject(deps: ActivityDeps, input: { stream: string; bronzeObjectId: number }): Promise<UnparkResult> {
  const { rows } = await deps.pool.query<{
    object_key: string | null;
    record_count: number | null;
    status: string;
    loaded: boolean;
    was_parked: boolean;
  }>(
    `WITH before AS (SELECT id, ${isParkedSql()} AS was_parked FROM bronze_objects WHERE id = $1 AND stream = $2 FOR UPDATE)
     UPDATE bronze_objects b SET parked_at = NULL, retried_at = CASE WHEN before.was_parked THEN now() ELSE b.retried_at END
     FROM before WHERE b.id = before.id
     RETURNING b.object_key, b.record_count, b.status, b.loaded_at IS NOT NULL AS loaded, before.was_parked`,
    [input.bronzeObjectId, input.stream],
  );
  const r = rows[0];
  if (!r) throw new EtlError('USAGE', `no bronze object ${input.bronzeObjectId} in stream ${input.stream}`);
  if (r.status !== 'archived' || !r.object_key)
    throw new EtlError('MANIFEST_INVALID', `bronze object ${input.bronzeObjectId} of stream ${input.stream} is not archived`);
  const wasParked = r.was_parked;
  if (wasParked)
    deps.logger.info(
      { stream: input.stream, bronzeObjectId: input.bronzeObjectId },
      `un-parked bronze object ${input.bronzeObjectId} for a retry`,
    );
  return {
    loaded: r.loaded,
    wasParked,
    object: r.loaded ? null : { bronzeObjectId: input.bronzeObjectId, objectKey: r.object_key, recordCount: r.record_count ?? 0 },
  };
}
