// Kafka -> bronze, one bounded call at a time (pipeline runs): the range archiver
// (range-archiver.ts) with the batch policy (policy.ts) — every range planned up front, up to the
// high watermark read at the start, at most maxObjects per call. Continuous mode archives with
// follow.ts instead; a call that finds a follower on the topic waits for it to catch up.
import { Context } from '@temporalio/activity';
import { EtlError } from '../../lib/errors';
import { topicFor } from '../../streams';
import { archiveLockKey, isFollowed, readPartitions, tryLock } from './bronze';
import { batchPolicy, STALL_TIMEOUT_MS } from './policy';
import { RangeArchiver } from './range-archiver';
import type { ActivityDeps } from '../deps';
import type { ArchiveInput, ArchiveResult } from '../types';
import { beat } from '../attempts';

const FOLLOWER_POLL_MS = 500;

export async function archive(deps: ActivityDeps, input: ArchiveInput): Promise<ArchiveResult> {
  const topic = topicFor(deps.config.KAFKA_TOPIC_PREFIX, input.stream);
  for (;;) {
    const lock = await tryLock(deps.pool, archiveLockKey(topic));
    if (lock) {
      try {
        const { cursor, caughtUp } = await new RangeArchiver(deps, input.stream, topic, batchPolicy(deps.config, input)).run();
        return { objectsArchived: cursor.objectsArchived, recordsArchived: cursor.recordsArchived, caughtUp };
      } finally {
        await lock.release();
      }
    }
    if (!(await isFollowed(deps.pool, topic)))
      throw new EtlError('ARCHIVE_BUSY', `another archive of topic ${topic} is running; this attempt will retry`);
    // A continuous stream follows the topic and archives everything anyway: waiting until it has
    // covered what Kafka holds now is this call's archive. If it leaves first, archive ourselves.
    if (await waitForFollower(deps, topic)) {
      deps.logger.info({ topic }, 'archive left to the stream that follows the topic; it has caught up');
      return { objectsArchived: 0, recordsArchived: 0, caughtUp: true };
    }
  }
}

/** True once the manifest covers every partition up to its high watermark of now; false when the follower is gone. */
async function waitForFollower(deps: ActivityDeps, topic: string): Promise<boolean> {
  const ctx = Context.current();
  const snapshot = await readPartitions(deps, topic);
  if (!snapshot) return true;
  let covered = -1n;
  let progressAt = Date.now();
  for (;;) {
    const { rows } = await deps.pool.query<{ kafka_partition: number; next: string; pending: number }>(
      `SELECT kafka_partition, (coalesce(max(last_offset) FILTER (WHERE status = 'archived'), -1) + 1)::text AS next,
              count(*) FILTER (WHERE status = 'pending')::int AS pending
       FROM bronze_objects WHERE topic = $1 GROUP BY kafka_partition`,
      [topic],
    );
    const nextOf = (p: number) => BigInt(rows.find((r) => r.kafka_partition === p)?.next ?? '0');
    if (snapshot.every((s) => s.high <= s.low || nextOf(s.partition) >= s.high) && rows.every((r) => r.pending === 0)) return true;
    const total = rows.reduce((n, r) => n + BigInt(r.next), 0n);
    if (total > covered) [covered, progressAt] = [total, Date.now()];
    if (!(await isFollowed(deps.pool, topic))) return false;
    if (Date.now() - progressAt > STALL_TIMEOUT_MS) {
      throw new EtlError(
        'ARCHIVE_BUSY',
        `the stream following ${topic} made no progress for ${STALL_TIMEOUT_MS / 1000}s; this attempt will retry`,
      );
    }
    beat({ waitingForFollower: topic }, ctx);
    await ctx.sleep(FOLLOWER_POLL_MS);
  }
}
