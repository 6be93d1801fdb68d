// Kafka -> bronze, one bounded call at a time (pipeline runs). Each object's offset range is first
// planned in the manifest ('pending'), then read, written to S3 and marked 'archived'; only then are
// Kafka offsets committed. A crashed attempt leaves a pending row that the next attempt re-reads
// exactly, to the same key, so every offset lands in exactly one object. The manifest, not the
// consumer group, is the source of truth. Continuous mode archives with follow.ts instead.
import { Context } from '@temporalio/activity';
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { EtlError } from '../../lib/errors';
import { archiveGroup, withKafkaErrors } from '../../lib/kafka';
import { bronzeKey } from '../../lib/lake';
import { NdjsonGzipWriter } from '../../lib/ndjson';
import { topicFor } from '../../streams';
import { archiveLockKey, bronzeLine, isFollowed, markArchived, planRange, readPartitions, tryLock, type Plan } from './bronze';
import type { ActivityDeps } from '../deps';
import type { ArchiveInput, ArchiveResult } from '../types';

const STALL_TIMEOUT_MS = 60_000;
const FOLLOWER_POLL_MS = 500;

interface OpenObject {
  plan: Plan;
  /**
   * Next offset to append. After a retriable error (a broker restart) kafkajs restarts its consumer
   * in place and fetches again from the last committed offset, this object's first: what was
   * already appended must be skipped, or the object would hold those offsets twice.
   */
  next: bigint;
  writer?: NdjsonGzipWriter;
  key?: string;
  minTs: number;
  maxTs: number;
}

interface PartitionState {
  partition: number;
  /** Next offset to plan from. */
  next: bigint;
  /** High watermark when the activity started: the snapshot this run archives up to. */
  high: bigint;
  /** Planned-but-unfinished rows left by a crashed attempt, redone first. */
  redo: Plan[];
  current?: OpenObject;
}

export async function archive(deps: ActivityDeps, input: ArchiveInput): Promise<ArchiveResult> {
  const topic = topicFor(deps.config.KAFKA_TOPIC_PREFIX, input.stream);
  for (;;) {
    const lock = await tryLock(deps.pool, archiveLockKey(topic));
    if (lock) {
      try {
        return await new Archiver(deps, input, topic).run();
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
    ctx.heartbeat({ waitingForFollower: topic });
    await ctx.sleep(FOLLOWER_POLL_MS);
  }
}

class Archiver {
  private readonly states = new Map<number, PartitionState>();
  private readonly maxObjects: number;
  private readonly maxRecords: bigint;
  private planned = 0;
  private objectsArchived = 0;
  private recordsArchived = 0;
  private consumer?: Consumer;
  private lastProgressAt = Date.now();

  constructor(
    private readonly deps: ActivityDeps,
    private readonly input: ArchiveInput,
    private readonly topic: string,
  ) {
    this.maxObjects = input.maxObjects ?? deps.config.ARCHIVE_MAX_OBJECTS_PER_ACTIVITY;
    this.maxRecords = BigInt(input.maxRecordsPerObject ?? deps.config.ARCHIVE_MAX_RECORDS_PER_OBJECT);
  }

  async run(): Promise<ArchiveResult> {
    const { kafka, config } = this.deps;
    if (!(await this.loadState())) return this.result();
    for (const st of this.states.values()) st.current = await this.openNext(st);
    const busy = [...this.states.values()].filter((s) => s.current);
    if (busy.length === 0) return this.result();

    const consumer = kafka.consumer({
      groupId: archiveGroup(config, this.topic),
      allowAutoTopicCreation: false,
      maxBytesPerPartition: 4 * 1024 * 1024,
      sessionTimeout: 30_000,
      // Never a restart by kafkajs itself: it schedules one after a crash even when the consumer is
      // disconnected meanwhile (its onCrash sets the timer after our disconnect cleared it), and that
      // orphan rejoins the group and holds partitions while heartbeating for good (seen on a broker
      // restart under chaos). A crash fails the attempt instead (CRASH with restart: false), and
      // Temporal's retry brings a new consumer.
      retry: { retries: 5, restartOnFailure: async () => false },
    });
    this.consumer = consumer;
    try {
      await withKafkaErrors(config.KAFKA_BROKERS, async () => {
        await consumer.connect();
        await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
      });
      await this.consumeUntilDone(consumer);
    } catch (err) {
      for (const st of this.states.values()) await st.current?.writer?.abort();
      throw err;
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
    return this.result();
  }

  private result(): ArchiveResult {
    const caughtUp = [...this.states.values()].every((s) => !s.current && s.redo.length === 0 && s.next >= s.high);
    return { objectsArchived: this.objectsArchived, recordsArchived: this.recordsArchived, caughtUp };
  }

  /** Reads partition watermarks and the manifest; false when the topic does not exist yet. */
  private async loadState(): Promise<boolean> {
    const partitions = await readPartitions(this.deps, this.topic);
    if (!partitions) return false;
    for (const p of partitions) this.states.set(p.partition, { partition: p.partition, next: p.next, high: p.high, redo: p.redo });
    return true;
  }

  /** The next object of a partition: a crashed attempt's pending plan first, else a new plan. */
  private async openNext(st: PartitionState): Promise<OpenObject | undefined> {
    const redo = st.redo.shift();
    if (redo) {
      this.planned++;
      return { plan: redo, next: redo.first, minTs: Infinity, maxTs: -Infinity };
    }
    if (this.planned >= this.maxObjects || st.next >= st.high) return undefined;
    const first = st.next;
    const last = (first + this.maxRecords < st.high ? first + this.maxRecords : st.high) - 1n;
    const id = await planRange(this.deps.pool, this.input.stream, this.topic, st.partition, first, last);
    st.next = last + 1n;
    this.planned++;
    return { plan: { id, first, last }, next: first, minTs: Infinity, maxTs: -Infinity };
  }

  private consumeUntilDone(consumer: Consumer): Promise<void> {
    const ctx = Context.current();
    return new Promise<void>((resolve, reject) => {
      const fail = (err: unknown) => {
        clearInterval(watchdog);
        reject(err);
      };
      const watchdog = setInterval(() => {
        ctx.heartbeat(this.cursor());
        if (Date.now() - this.lastProgressAt > STALL_TIMEOUT_MS) {
          fail(
            new EtlError(
              'KAFKA_UNREACHABLE',
              `no records from ${this.topic} for ${STALL_TIMEOUT_MS / 1000}s while archiving (brokers ${this.deps.config.KAFKA_BROKERS.join(',')})`,
            ),
          );
        }
      }, 5_000);
      ctx.cancelled.catch(fail);
      consumer.on(consumer.events.CRASH, (e) => {
        if (!e.payload.restart) fail(e.payload.error);
      });
      const checkDone = () => {
        if ([...this.states.values()].every((s) => !s.current)) {
          clearInterval(watchdog);
          resolve();
        }
      };
      consumer
        .run({
          autoCommit: false,
          eachBatch: async (payload) => {
            try {
              await this.onBatch(payload);
              checkDone();
            } catch (err) {
              fail(err);
              throw err;
            }
          },
        })
        .then(() => {
          const idle: number[] = [];
          for (const st of this.states.values()) {
            if (st.current) consumer.seek({ topic: this.topic, partition: st.partition, offset: st.current.plan.first.toString() });
            else idle.push(st.partition);
          }
          if (idle.length) consumer.pause([{ topic: this.topic, partitions: idle }]);
        })
        .catch(fail);
    });
  }

  private async onBatch({ batch, heartbeat }: EachBatchPayload): Promise<void> {
    const st = this.states.get(batch.partition);
    if (!st?.current) return;
    for (const message of batch.messages) {
      const offset = BigInt(message.offset);
      while (st.current && offset > st.current.plan.last) await this.finish(st);
      if (!st.current) break;
      if (offset < st.current.next) continue;
      await this.append(st.current, message, batch.partition);
      st.current.next = offset + 1n;
      if (offset === st.current.plan.last) await this.finish(st);
    }
    // Offsets without records (transaction markers) can end a range: the batch says we passed it.
    if (st.current && BigInt(batch.lastOffset()) >= st.current.plan.last) await this.finish(st);
    this.lastProgressAt = Date.now();
    await heartbeat();
  }

  private async append(o: OpenObject, m: KafkaMessage, partition: number): Promise<void> {
    const ts = Number(m.timestamp);
    if (!o.writer) {
      o.key = bronzeKey(this.deps.config.S3_PREFIX, this.topic, partition, o.plan.first, o.plan.last, ts);
      o.writer = new NdjsonGzipWriter(this.deps.s3, this.deps.config.S3_BUCKET, o.key);
    }
    if (ts < o.minTs) o.minTs = ts;
    if (ts > o.maxTs) o.maxTs = ts;
    await o.writer.write(bronzeLine(this.topic, partition, m));
  }

  private async finish(st: PartitionState): Promise<void> {
    const o = st.current!;
    if (!o.writer) {
      // A range with no records at all (only markers): still recorded, as an empty object.
      o.key = bronzeKey(this.deps.config.S3_PREFIX, this.topic, st.partition, o.plan.first, o.plan.last, 0);
      o.writer = new NdjsonGzipWriter(this.deps.s3, this.deps.config.S3_BUCKET, o.key);
    }
    await o.writer.close();
    await markArchived(this.deps.pool, o.plan.id, {
      key: o.key!,
      records: o.writer.lines,
      bytes: o.writer.compressedBytes,
      minTs: o.minTs,
      maxTs: o.maxTs,
    });
    await this.consumer!.commitOffsets([{ topic: this.topic, partition: st.partition, offset: (o.plan.last + 1n).toString() }]);
    this.objectsArchived++;
    this.recordsArchived += o.writer.lines;
    this.deps.logger.info(
      {
        topic: this.topic,
        partition: st.partition,
        first: String(o.plan.first),
        last: String(o.plan.last),
        key: o.key,
        records: o.writer.lines,
      },
      'archived bronze object',
    );
    this.lastProgressAt = Date.now();
    Context.current().heartbeat(this.cursor());
    st.current = await this.openNext(st);
    if (!st.current) this.consumer!.pause([{ topic: this.topic, partitions: [st.partition] }]);
  }

  /** Heartbeat details: per partition, the next offset not yet durably archived. */
  private cursor(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const st of this.states.values()) out[st.partition] = (st.current?.plan.first ?? st.next).toString();
    return out;
  }
}
