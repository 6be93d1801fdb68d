// A fresh broker answers metadata at once, but creates the topic its group coordinator keeps state
// in (__consumer_offsets) only when the first group asks for a coordinator, and then loads each of
// its partitions: until a group's partition is loaded, joining that group fails with
// COORDINATOR_LOAD_IN_PROGRESS or GROUP_LOAD_IN_PROGRESS. A consumer starting in that window (the
// first archive after `stack up` on a new machine) fails its attempt. So Kafka is healthy only once
// a group on every partition of that topic can be described.
import type { Admin } from 'kafkajs';

const OFFSETS_TOPIC = '__consumer_offsets';
const PROBE_PREFIX = 'etl-stack-probe-';

/** Java's String.hashCode (over UTF-16 code units, 32-bit overflow), which Kafka hashes group ids with. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The partition of __consumer_offsets that holds a group: Kafka's `Utils.abs(hashCode) % partitions`,
 * where its `abs` maps Integer.MIN_VALUE (which has no positive twin) to 0.
 */
export function offsetsPartitionOf(groupId: string, partitions: number): number {
  const h = javaStringHash(groupId);
  return (h === -0x80000000 ? 0 : Math.abs(h)) % partitions;
}

/** One probe group id per partition of a `partitions`-partition __consumer_offsets, in partition order. */
export function probeGroupPerPartition(partitions: number): string[] {
  const byPartition = new Array<string | undefined>(partitions).fill(undefined);
  let missing = partitions;
  for (let n = 0; missing > 0; n++) {
    const id = `${PROBE_PREFIX}${n}`;
    const p = offsetsPartitionOf(id, partitions);
    if (byPartition[p] === undefined) {
      byPartition[p] = id;
      missing--;
    }
  }
  return byPartition as string[];
}

/**
 * Resolves once every partition of the group coordinator's topic answers; throws the broker's
 * error (a coordinator still loading) otherwise, for the caller's poll to try again.
 */
export async function probeGroupCoordinator(admin: Admin): Promise<void> {
  // The first look-up makes the broker create the topic; it answers COORDINATOR_NOT_AVAILABLE until then.
  await admin.describeGroups([`${PROBE_PREFIX}0`]);
  const { topics } = await admin.fetchTopicMetadata({ topics: [OFFSETS_TOPIC] });
  const partitions = topics[0]?.partitions.length ?? 0;
  if (partitions === 0) throw new Error(`${OFFSETS_TOPIC} has no partitions yet`);
  await admin.describeGroups(probeGroupPerPartition(partitions));
}
