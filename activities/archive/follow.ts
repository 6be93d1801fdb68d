// Continuous mode's archive: one long-running activity per run of a stream workflow, the range
// archiver (range-archiver.ts) with the follow policy (policy.ts). It joins the archive consumer
// group once and stays in it, and writes a bronze object per partition whenever its open range
// reaches the records threshold or its oldest record is a flush interval old; a range is planned
// at flush, once its records are read. The exactly-once rules are the batch archive's, in the same
// code (open-range.ts); the per-topic lock keeps one archiver. It heartbeats its offsets and
// counts, and a retried attempt (after a worker restart) carries them on. It ends when cancelled
// (stop, or the workflow's next run): it writes what it has read, commits, leaves the group and
// returns its totals.
import { Context } from '@temporalio/activity';
import { EtlError } from '../../lib/errors';
import { topicFor } from '../../streams';
import { archiveLockKey, followLockKey, tryLock } from './bronze';
import type { ActivityDeps } from '../deps';
import type { FollowInput, FollowResult } from '../types';
import { followPolicy } from './policy';
import { RangeArchiver } from './range-archiver';

export { followCursorSchema, type FollowCursor } from './follow-cursor';

export async function follow(deps: ActivityDeps, input: FollowInput): Promise<FollowResult> {
  const topic = topicFor(deps.config.KAFKA_TOPIC_PREFIX, input.stream);
  const archiveLock = await tryLock(deps.pool, archiveLockKey(topic));
  if (!archiveLock)
    throw new EtlError('ARCHIVE_BUSY', `another archive of topic ${topic} is running; the stream follows it once that one is done`);
  try {
    const followLock = await tryLock(deps.pool, followLockKey(topic));
    if (!followLock) throw new EtlError('ARCHIVE_BUSY', `another follower holds topic ${topic}; this attempt will retry`);
    try {
      const { cursor } = await new RangeArchiver(deps, input.stream, topic, followPolicy(deps.config, input)).run();
      const { objectsArchived, recordsArchived, groupJoins } = cursor;
      return { objectsArchived, recordsArchived, groupJoins, attempt: Context.current().info.attempt };
    } finally {
      await followLock.release();
    }
  } finally {
    await archiveLock.release();
  }
}
