// The two ways the range archiver (range-archiver.ts) runs. Everything else — planning a range in
// the manifest, skipping what Kafka sends again, redoing pending ranges, writing, marking and
// committing — is the same code in both.
import type { Config } from '../../lib/config';
import type { ArchiveInput, FollowInput } from '../types';

export interface ArchivePolicy {
  readonly mode: 'batch' | 'follow';
  /** Records per object at most. */
  readonly maxRecords: number;
  /**
   * Uncompressed bytes of bronze lines per object at most (ARCHIVE_MAX_OBJECT_BYTES): a range is cut
   * before the record that would pass it (a planned one is split, bronze.ts splitPlan). A single
   * record larger than it is archived as its size, hash and first bytes (bronze.ts bronzeLine).
   */
  readonly maxBytes: number;
  /**
   * 'upFront' (batch): each range is planned ('pending') before it is read, sized up to maxRecords
   * and cut at the high watermark read at the start. 'atFlush' (follow): a range is planned once its
   * records are read, ending at the last one, when it is written.
   */
  readonly plan: 'upFront' | 'atFlush';
  /** Ranges one run plans at most (batch; a pending range redone counts too). */
  readonly maxObjects: number;
  /** An at-flush range is written once its oldest record is this old (follow). */
  readonly flushAgeMs: number | undefined;
  /**
   * 'snapshot' (batch): the run ends once every partition is archived up to the start's high
   * watermark or maxObjects are written; a cancellation fails it. 'cancelled' (follow): it runs until
   * cancelled, waits for the topic to exist, follows partitions added meanwhile, carries on a retried
   * attempt's counts from its heartbeat, and on cancellation writes what it has read and returns.
   */
  readonly stopWhen: 'snapshot' | 'cancelled';
  /** No record for this long while ranges are open fails the attempt as an outage (batch: there is a backlog). */
  readonly stallTimeoutMs: number | undefined;
  /** kafkajs consumer settings of the mode. */
  readonly consumer: { sessionTimeout: number; heartbeatInterval?: number; maxWaitTimeInMs?: number };
}

export const STALL_TIMEOUT_MS = 60_000;

/** A pipeline run's archive: a bounded call that archives what Kafka held when it started. */
export function batchPolicy(config: Config, input: ArchiveInput): ArchivePolicy {
  return {
    mode: 'batch',
    maxRecords: input.maxRecordsPerObject ?? config.ARCHIVE_MAX_RECORDS_PER_OBJECT,
    maxBytes: config.ARCHIVE_MAX_OBJECT_BYTES,
    plan: 'upFront',
    maxObjects: input.maxObjects ?? config.ARCHIVE_MAX_OBJECTS_PER_ACTIVITY,
    flushAgeMs: undefined,
    stopWhen: 'snapshot',
    stallTimeoutMs: STALL_TIMEOUT_MS,
    consumer: { sessionTimeout: 30_000 },
  };
}

/** Continuous mode's archive: a member of the consumer group for as long as the stream runs. */
export function followPolicy(config: Config, input: FollowInput): ArchivePolicy {
  return {
    mode: 'follow',
    maxRecords: input.maxRecordsPerObject ?? config.ARCHIVE_MAX_RECORDS_PER_OBJECT,
    maxBytes: config.ARCHIVE_MAX_OBJECT_BYTES,
    plan: 'atFlush',
    maxObjects: Infinity,
    flushAgeMs: input.flushIntervalMs,
    stopWhen: 'cancelled',
    stallTimeoutMs: undefined,
    // A follower that died is out of the group soon, so its successor gets the partitions quickly;
    // an idle fetch returns after maxWaitTimeInMs, so leaving the group on stop never waits longer.
    consumer: { sessionTimeout: 10_000, heartbeatInterval: 3_000, maxWaitTimeInMs: 1_000 },
  };
}
