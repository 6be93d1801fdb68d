// What a follower heartbeats — its offsets and counts — and how a retried attempt carries them on.
// Heartbeat details come back from Temporal as unknown data, so they are parsed, never trusted.
import type pg from 'pg';
import { z } from 'zod';

/** Heartbeat details: what a retried attempt resumes from, and what `etl stream status` shows live. */
export const followCursorSchema = z.object({
  /** Per partition, the next offset no archived object holds yet. */
  offsets: z.record(z.string(), z.string()),
  objectsArchived: z.number().int().nonnegative(),
  recordsArchived: z.number().int().nonnegative(),
  /** Times this follower (over its attempts) joined the consumer group. */
  groupJoins: z.number().int().nonnegative(),
  /** Records read but not written yet. */
  buffered: z.number().int().nonnegative(),
  lastFlushAt: z.string().nullable(),
});
export type FollowCursor = z.infer<typeof followCursorSchema>;

/**
 * The cursor a retried attempt (the previous one's worker died) starts from: the counts of its last
 * heartbeat plus the objects it wrote after that heartbeat, which the manifest holds from the
 * heartbeated offsets on (heartbeats are throttled, so the last ones before a crash may never have
 * been sent). Undefined for a first attempt.
 */
export async function resumedCursor(
  pool: pg.Pool,
  topic: string,
  heartbeatDetails: unknown,
): Promise<{ cursor: FollowCursor; writtenAfterHeartbeat: { objects: number; records: number } } | undefined> {
  const details = followCursorSchema.safeParse(heartbeatDetails);
  if (!details.success) return undefined;
  const { rows } = await pool.query<{ objects: number; records: number }>(
    `SELECT count(*)::int AS objects, coalesce(sum(record_count), 0)::int AS records
     FROM bronze_objects b JOIN unnest($2::int[], $3::bigint[]) AS h(kafka_partition, next_offset) USING (kafka_partition)
     WHERE b.topic = $1 AND b.status = 'archived' AND b.first_offset >= h.next_offset`,
    [topic, Object.keys(details.data.offsets).map(Number), Object.values(details.data.offsets)],
  );
  const after = rows[0]!;
  const cursor = {
    ...details.data,
    buffered: 0,
    objectsArchived: details.data.objectsArchived + after.objects,
    recordsArchived: details.data.recordsArchived + after.records,
  };
  return { cursor, writtenAfterHeartbeat: after };
}
