// What every archiver of a topic shares — the range archiver (range-archiver.ts) in batch and
// follow mode: the per-topic locks, the manifest rows that plan and record each object's
// offset range, the partitions' starting points, and the bronze line of one Kafka record.
import type { KafkaMessage } from 'kafkajs';
import type pg from 'pg';
import { EtlError } from '../../lib/errors';
import { withKafkaErrors } from '../../lib/kafka';
import { inTransaction } from '../../lib/postgres';
import { digestOf, encodeValue, type BronzeRecord } from '../../lib/lake';
import { setAsideByDecompression } from '../../lib/kafka-codecs';
import type { ActivityDeps } from '../deps';

export interface Plan {
  id: number;
  first: bigint;
  last: bigint;
}

/** One archiver per topic holds this lock: the batch archive for one call, a follower for its whole life. */
export const archiveLockKey = (topic: string) => `etl.archive.${topic}`;
/** Held besides the archive lock by a follower, so a batch archive can tell it from another batch. */
export const followLockKey = (topic: string) => `etl.follow.${topic}`;

export interface HeldLock {
  release(): Promise<void>;
}

/** A session-level advisory lock on a connection of its own; undefined when another session holds it. */
export async function tryLock(pool: pg.Pool, key: string): Promise<HeldLock | undefined> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [key]);
    if (!rows[0]?.ok) {
      client.release();
      return undefined;
    }
  } catch (err) {
    client.release();
    throw err;
  }
  return {
    async release() {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]).catch(() => undefined);
      client.release();
    },
  };
}

/** True while a follower (continuous mode) holds the topic. */
export async function isFollowed(pool: pg.Pool, topic: string): Promise<boolean> {
  const probe = await tryLock(pool, followLockKey(topic));
  await probe?.release();
  return probe === undefined;
}

/** The partition of a stream's topic a range of offsets belongs to. */
export interface PartitionOf {
  stream: string;
  topic: string;
  partition: number;
}

/**
 * Plans [first, last] of a partition as a 'pending' manifest row. The NOT EXISTS guard keeps ranges
 * disjoint even if two archivers ever raced past the lock.
 */
export async function planRange(pool: pg.Pool, at: PartitionOf, first: bigint, last: bigint): Promise<number> {
  const { stream, topic, partition } = at;
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO bronze_objects (stream, topic, kafka_partition, first_offset, last_offset)
     SELECT $1, $2, $3, $4, $5
     WHERE NOT EXISTS (SELECT 1 FROM bronze_objects WHERE topic = $2 AND kafka_partition = $3 AND last_offset >= $4)
     ON CONFLICT (topic, kafka_partition, first_offset) DO NOTHING
     RETURNING id`,
    [stream, topic, partition, first.toString(), last.toString()],
  );
  if (!rows[0])
    throw new EtlError('ARCHIVE_BUSY', `offsets ${first}-${last} of ${topic}[${partition}] were planned by another archiver; retrying`);
  return Number(rows[0].id);
}

/**
 * Cuts a planned range short at `last`: the row keeps [first, last] and a new 'pending' row plans
 * the rest, in one transaction, so the manifest tiles the partition at every moment. A range is cut
 * when its records reach the byte bound before its planned end; the cut depends on the records
 * alone, so a retry that redoes the rest cuts it the same way. Returns the plan of the rest.
 */
export async function splitPlan(pool: pg.Pool, at: PartitionOf, plan: Plan, last: bigint): Promise<Plan> {
  const { stream, topic, partition } = at;
  return inTransaction(pool, async (client) => {
    const cut = await client.query(
      "UPDATE bronze_objects SET last_offset = $2 WHERE id = $1 AND status = 'pending' AND last_offset = $3 AND first_offset <= $2",
      [plan.id, last.toString(), plan.last.toString()],
    );
    if (cut.rowCount !== 1)
      throw new EtlError(
        'ARCHIVE_BUSY',
        `offsets ${plan.first}-${plan.last} of ${topic}[${partition}] changed under this archiver; retrying`,
      );
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO bronze_objects (stream, topic, kafka_partition, first_offset, last_offset) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [stream, topic, partition, (last + 1n).toString(), plan.last.toString()],
    );
    return { id: Number(rows[0]!.id), first: last + 1n, last: plan.last };
  });
}

export interface WrittenObject {
  key: string;
  records: number;
  bytes: number;
  minTs: number;
  maxTs: number;
}

/** The object of a planned range is in S3: the row becomes 'archived' (only then are offsets committed). */
export async function markArchived(pool: pg.Pool, planId: number, o: WrittenObject): Promise<void> {
  await pool.query(
    `UPDATE bronze_objects SET status = 'archived', object_key = $2, record_count = $3, byte_count = $4,
       min_event_ts = to_timestamp($5::double precision / 1000), max_event_ts = to_timestamp($6::double precision / 1000), archived_at = now()
     WHERE id = $1 AND status = 'pending'`,
    [planId, o.key, o.records, o.bytes, Number.isFinite(o.minTs) ? o.minTs : null, Number.isFinite(o.maxTs) ? o.maxTs : null],
  );
}

export interface PartitionStart {
  partition: number;
  low: bigint;
  /** High watermark when read. */
  high: bigint;
  /** Next offset no manifest row covers yet. */
  next: bigint;
  /** Planned-but-unfinished rows left by a crashed attempt, to be redone exactly first. */
  redo: Plan[];
}

/** Each partition's starting point from the watermarks and the manifest; undefined when the topic does not exist yet. */
export async function readPartitions(deps: ActivityDeps, topic: string): Promise<PartitionStart[] | undefined> {
  const { kafka, pool, logger, config } = deps;
  const offsets = await withKafkaErrors(config.KAFKA_BROKERS, async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      if (!(await admin.listTopics()).includes(topic)) return undefined;
      return await admin.fetchTopicOffsets(topic);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  });
  if (!offsets) return undefined;
  const { rows: lasts } = await pool.query<{ kafka_partition: number; last_offset: string }>(
    'SELECT kafka_partition, max(last_offset)::text AS last_offset FROM bronze_objects WHERE topic = $1 GROUP BY kafka_partition',
    [topic],
  );
  const { rows: pending } = await pool.query<{ id: string; kafka_partition: number; first_offset: string; last_offset: string }>(
    "SELECT id, kafka_partition, first_offset, last_offset FROM bronze_objects WHERE topic = $1 AND status = 'pending' ORDER BY first_offset",
    [topic],
  );
  return offsets.map((o) => {
    const low = BigInt(o.low);
    const last = lasts.find((l) => l.kafka_partition === o.partition);
    const next = last ? BigInt(last.last_offset) + 1n : low;
    if (next < low)
      logger.warn(
        { topic, partition: o.partition, next: String(next), low: String(low) },
        'offsets expired from Kafka before they were archived',
      );
    return {
      partition: o.partition,
      low,
      high: BigInt(o.high),
      next: next < low ? low : next,
      redo: pending
        .filter((p) => p.kafka_partition === o.partition)
        .map((p) => ({ id: Number(p.id), first: BigInt(p.first_offset), last: BigInt(p.last_offset) })),
    };
  });
}

/**
 * The bronze NDJSON line of one Kafka record. A value larger than `wholeUpTo` (ARCHIVE_MAX_OBJECT_BYTES:
 * no object could hold it), or one the bounded decompression set aside (lib/kafka-codecs.ts), is
 * archived as what can be said of it — size, SHA-256, first bytes — with a TOO_LARGE defect, which
 * the transform quarantines; the partition goes on behind it.
 */
export function bronzeLine(topic: string, partition: number, m: KafkaMessage, wholeUpTo: number): string {
  const setAside = setAsideByDecompression(m);
  const tooBig = m.value !== null && m.value.length > wholeUpTo;
  const base = {
    topic,
    partition,
    offset: m.offset,
    timestamp: new Date(Number(m.timestamp)).toISOString(),
    key: m.key === null ? null : m.key.toString('utf8'),
  };
  if (!setAside && !tooBig) return JSON.stringify({ ...base, ...encodeValue(m.value) } satisfies BronzeRecord);
  const d = setAside ? { ...setAside, prefix: encodeValue(m.value) } : digestOf(m.value!);
  const why = setAside?.why ?? `more than a bronze object holds (ARCHIVE_MAX_OBJECT_BYTES ${wholeUpTo})`;
  const record: BronzeRecord = {
    ...base,
    ...d.prefix,
    defect: {
      code: 'TOO_LARGE',
      reason:
        `message value is ${d.bytes} bytes (SHA-256 ${d.sha256}), ${why}: only its size, hash and first bytes were archived; ` +
        `the original stays in Kafka at ${topic}[${partition}]@${m.offset} until the topic's retention`,
      bytes: d.bytes,
      sha256: d.sha256,
    },
  };
  return JSON.stringify(record);
}
