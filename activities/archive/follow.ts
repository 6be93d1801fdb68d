// Continuous mode's archive: one long-running activity per run of a stream workflow. It joins the
// archive consumer group once and stays in it, and writes a bronze object per partition whenever
// its buffer reaches the records threshold or its oldest record is a flush interval old. The
// exactly-once rules of the batch archive hold: an object's offset range is planned ('pending')
// before the object is written, then marked 'archived', and only then are offsets committed; a
// pending range left by a crash is redone exactly, to the same key; the per-topic lock keeps one
// archiver. Here the range is planned at flush time, once its records are read (an object ends
// wherever the flush falls). It heartbeats its offsets and counts, and a retried attempt (after a
// worker restart) carries them on. It ends when cancelled (stop, or the workflow's next run): it
// flushes what it has read, commits, leaves the group and returns its totals.
import { EtlError } from '../../lib/errors';
import { topicFor } from '../../streams';
import { archiveLockKey, followLockKey, tryLock } from './bronze';
import type { ActivityDeps } from '../deps';
import type { FollowInput, FollowResult } from '../types';
import { Follower } from './follower';

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
      return await new Follower(deps, input, topic).run();
    } finally {
      await followLock.release();
    }
  } finally {
    await archiveLock.release();
  }
}
