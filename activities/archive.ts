// Kafka -> bronze. Each object's offset range is first planned in the manifest ('pending'), then
// read, written to S3 and marked 'archived'; only then are Kafka offsets committed. A crashed
// attempt leaves a pending row that the next attempt re-reads exactly, to the same key, so every
// offset lands in exactly one object. The manifest, not the consumer group, is the source of truth.
import { Context } from '@temporalio/activity';
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { EtlError } from '../lib/errors';
import { archiveGroup, withKafkaErrors } from '../lib/kafka';
import { bronzeKey, encodeValue, type BronzeRecord } from '../lib/lake';
import { NdjsonGzipWriter } from '../lib/ndjson';
import { topicFor } from '../streams';
import type { ActivityDeps } from './deps';
import type { ArchiveInput, ArchiveResult } from './types';

const STALL_TIMEOUT_MS = 60_000;

interface Plan { id: number; first: bigint; last: bigint }

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
  const lockKey = `etl.archive.${topic}`;
  const lockClient = await deps.pool.connect();
  try {
    const { rows } = await lockClient.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [lockKey]);
    if (!rows[0]?.ok) throw new EtlError('ARCHIVE_BUSY', `another archive of topic ${topic} is running; this attempt will retry`);
    try {
      return await new Archiver(deps, input, topic).run();
    } finally {
      await lockClient.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => undefined);
    }
  } finally {
    lockClient.release();
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

  constructor(private readonly deps: ActivityDeps, private readonly input: ArchiveInput, private readonly topic: string) {
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
      retry: { retries: 5 },
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
    const { kafka, config, pool } = this.deps;
    const admin = kafka.admin();
    const offsets = await withKafkaErrors(config.KAFKA_BROKERS, async () => {
      await admin.connect();
      try {
        if (!(await admin.listTopics()).includes(this.topic)) return undefined;
        return await admin.fetchTopicOffsets(this.topic);
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    });
    if (!offsets) return false;
    const { rows: lasts } = await pool.query<{ kafka_partition: number; last_offset: string }>(
      'SELECT kafka_partition, max(last_offset)::text AS last_offset FROM bronze_objects WHERE topic = $1 GROUP BY kafka_partition',
      [this.topic],
    );
    const { rows: pending } = await pool.query<{ id: string; kafka_partition: number; first_offset: string; last_offset: string }>(
      "SELECT id, kafka_partition, first_offset, last_offset FROM bronze_objects WHERE topic = $1 AND status = 'pending' ORDER BY first_offset",
      [this.topic],
    );
    for (const o of offsets) {
      const low = BigInt(o.low);
      const manifestNext = lasts.find((l) => l.kafka_partition === o.partition);
      const next = manifestNext ? BigInt(manifestNext.last_offset) + 1n : low;
      if (next < low) {
        this.deps.logger.warn({ topic: this.topic, partition: o.partition, next: String(next), low: String(low) }, 'offsets expired from Kafka before they were archived');
      }
      this.states.set(o.partition, {
        partition: o.partition,
        next: next < low ? low : next,
        high: BigInt(o.high),
        redo: pending
          .filter((p) => p.kafka_partition === o.partition)
          .map((p) => ({ id: Number(p.id), first: BigInt(p.first_offset), last: BigInt(p.last_offset) })),
      });
    }
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
    // The NOT EXISTS guard keeps ranges disjoint even if two archivers ever raced past the lock.
    const { rows } = await this.deps.pool.query<{ id: string }>(
      `INSERT INTO bronze_objects (stream, topic, kafka_partition, first_offset, last_offset)
       SELECT $1, $2, $3, $4, $5
       WHERE NOT EXISTS (SELECT 1 FROM bronze_objects WHERE topic = $2 AND kafka_partition = $3 AND last_offset >= $4)
       ON CONFLICT (topic, kafka_partition, first_offset) DO NOTHING
       RETURNING id`,
      [this.input.stream, this.topic, st.partition, first.toString(), last.toString()],
    );
    if (!rows[0]) throw new EtlError('ARCHIVE_BUSY', `offsets ${first}-${last} of ${this.topic}[${st.partition}] were planned by another archiver; retrying`);
    st.next = last + 1n;
    this.planned++;
    return { plan: { id: Number(rows[0].id), first, last }, next: first, minTs: Infinity, maxTs: -Infinity };
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
          fail(new EtlError('KAFKA_UNREACHABLE', `no records from ${this.topic} for ${STALL_TIMEOUT_MS / 1000}s while archiving (brokers ${this.deps.config.KAFKA_BROKERS.join(',')})`));
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
    const record: BronzeRecord = {
      topic: this.topic,
      partition,
      offset: m.offset,
      timestamp: new Date(ts).toISOString(),
      key: m.key === null ? null : m.key.toString('utf8'),
      ...encodeValue(m.value),
    };
    await o.writer.write(JSON.stringify(record));
  }

  private async finish(st: PartitionState): Promise<void> {
    const o = st.current!;
    if (!o.writer) {
      // A range with no records at all (only markers): still recorded, as an empty object.
      o.key = bronzeKey(this.deps.config.S3_PREFIX, this.topic, st.partition, o.plan.first, o.plan.last, 0);
      o.writer = new NdjsonGzipWriter(this.deps.s3, this.deps.config.S3_BUCKET, o.key);
    }
    await o.writer.close();
    await this.deps.pool.query(
      `UPDATE bronze_objects SET status = 'archived', object_key = $2, record_count = $3, byte_count = $4,
         min_event_ts = to_timestamp($5::double precision / 1000), max_event_ts = to_timestamp($6::double precision / 1000), archived_at = now()
       WHERE id = $1 AND status = 'pending'`,
      [o.plan.id, o.key, o.writer.lines, o.writer.compressedBytes, Number.isFinite(o.minTs) ? o.minTs : null, Number.isFinite(o.maxTs) ? o.maxTs : null],
    );
    await this.consumer!.commitOffsets([{ topic: this.topic, partition: st.partition, offset: (o.plan.last + 1n).toString() }]);
    this.objectsArchived++;
    this.recordsArchived += o.writer.lines;
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
