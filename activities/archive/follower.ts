// The consumer behind continuous mode's `follow` activity (follow.ts): a member of the archive
// consumer group for the activity's whole life. Per partition it buffers what it reads and writes
// an object when the buffer is full or its oldest record is a flush interval old; it skips what a
// re-fetch hands it again (after a rebalance or a broker restart) and redoes pending ranges first.
import { CancelledFailure, Context } from '@temporalio/activity';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import { archiveGroup, withKafkaErrors } from '../../lib/kafka';
import { readPartitions, type Plan } from './bronze';
import type { ActivityDeps } from '../deps';
import type { FollowInput, FollowResult } from '../types';
import { PartitionBuffer, writeObject } from './follow-buffer';
import { resumedCursor, type FollowCursor } from './follow-cursor';

const TICK_MS = 250;

interface PartitionState {
  partition: number;
  /** First offset of the next object: everything before it is in archived (or pending) objects. */
  next: bigint;
  /** Next offset to append: records before it are archived or buffered, so a re-fetch skips them. */
  expected: bigint;
  redo: Plan[];
  buffer?: PartitionBuffer;
}

export class Follower {
  private readonly ctx = Context.current();
  private readonly states = new Map<number, PartitionState>();
  private readonly maxRecords: number;
  private readonly cursor: FollowCursor = {
    offsets: {},
    objectsArchived: 0,
    recordsArchived: 0,
    groupJoins: 0,
    buffered: 0,
    lastFlushAt: null,
  };
  private readonly log;
  private consumer?: Consumer;
  /** Batches, time flushes and the final flush run one at a time: a buffer has one writer. */
  private queue: Promise<unknown> = Promise.resolve();
  private stopping = false;

  constructor(
    private readonly deps: ActivityDeps,
    private readonly input: FollowInput,
    private readonly topic: string,
  ) {
    this.maxRecords = input.maxRecordsPerObject ?? deps.config.ARCHIVE_MAX_RECORDS_PER_OBJECT;
    this.log = deps.logger.child({ topic });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  async run(): Promise<FollowResult> {
    await this.resume();
    if (!(await this.waitForTopic())) return this.result();
    const { kafka, config } = this.deps;
    const consumer = kafka.consumer({
      groupId: archiveGroup(config, this.topic),
      allowAutoTopicCreation: false,
      maxBytesPerPartition: 4 * 1024 * 1024,
      // A follower that died is out of the group soon, so its successor gets the partitions quickly.
      sessionTimeout: 10_000,
      heartbeatInterval: 3_000,
      // An idle fetch returns after this long, so leaving the group on stop never waits longer.
      maxWaitTimeInMs: 1_000,
      // Never a restart by kafkajs itself: it schedules one after a crash even when the consumer is
      // disconnected meanwhile (its onCrash sets the timer after our disconnect cleared it), and that
      // orphan rejoins the group and holds partitions while heartbeating for good (seen on a broker
      // restart under chaos). A crash fails the attempt instead (CRASH with restart: false), and
      // Temporal's retry brings a new consumer.
      retry: { retries: 5, restartOnFailure: async () => false },
    });
    this.consumer = consumer;
    let fail: (err: unknown) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => (fail = reject));
    failed.catch(() => undefined); // raced below; a failure after the race is already handled
    consumer.on(consumer.events.CRASH, (e) => {
      if (!e.payload.restart) fail(e.payload.error);
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.serial(async () => this.onJoin(e.payload.memberAssignment)).catch(fail);
    });
    try {
      await withKafkaErrors(config.KAFKA_BROKERS, async () => {
        await consumer.connect();
        await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
      });
      await consumer.run({
        autoCommit: false,
        eachBatch: (payload) =>
          this.serial(() => this.onBatch(payload)).catch((err: unknown) => {
            fail(err);
            throw err;
          }),
      });
      const timer = setInterval(() => {
        this.serial(() => this.flushDue()).catch(fail);
        this.heartbeat();
      }, TICK_MS);
      try {
        await Promise.race([this.ctx.cancelled.catch(() => undefined), failed]);
      } finally {
        clearInterval(timer);
      }
      this.log.info({ reason: this.ctx.cancellationDetails ?? null }, 'follower stopping: writing what it has read');
      this.stopping = true;
      consumer.pause([{ topic: this.topic }]);
      await this.serial(() => this.flushAll());
    } catch (err) {
      for (const st of this.states.values()) st.buffer?.discard();
      throw err;
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
    return this.result();
  }

  private result(): FollowResult {
    this.heartbeat();
    const { objectsArchived, recordsArchived, groupJoins } = this.cursor;
    return { objectsArchived, recordsArchived, groupJoins, attempt: this.ctx.info.attempt };
  }

  /** A retried attempt carries on the counts of the ones before it (follow-cursor.ts). */
  private async resume(): Promise<void> {
    const resumed = await resumedCursor(this.deps.pool, this.topic, this.ctx.info.heartbeatDetails);
    if (!resumed) return;
    Object.assign(this.cursor, resumed.cursor);
    this.log.info(
      { attempt: this.ctx.info.attempt, offsets: resumed.cursor.offsets, writtenAfterHeartbeat: resumed.writtenAfterHeartbeat },
      'follower resuming from its last heartbeat',
    );
  }

  /** Loads the partitions once the topic exists; false when cancelled before it does. */
  private async waitForTopic(): Promise<boolean> {
    for (;;) {
      const partitions = await readPartitions(this.deps, this.topic);
      if (partitions) {
        for (const p of partitions) this.addPartition(p.partition, p.redo[0]?.first ?? p.next, p.redo);
        return true;
      }
      this.heartbeat();
      try {
        await this.ctx.sleep(this.input.flushIntervalMs);
      } catch (err) {
        if (err instanceof CancelledFailure) return false;
        throw err;
      }
    }
  }

  private addPartition(partition: number, next: bigint, redo: Plan[]): PartitionState {
    const heartbeated = this.cursor.offsets[partition];
    // The manifest is the truth: it can only be ahead of a heartbeat (objects written after it).
    if (heartbeated !== undefined && BigInt(heartbeated) > next) {
      this.log.warn(
        { partition, heartbeated, manifest: String(next) },
        'the manifest is behind the last heartbeat; following from the manifest',
      );
    }
    const st: PartitionState = { partition, next, expected: next, redo: [...redo] };
    this.states.set(partition, st);
    this.cursor.offsets[partition] = String(next);
    return st;
  }

  private async stateFor(partition: number): Promise<PartitionState> {
    const known = this.states.get(partition);
    if (known) return known;
    // A partition added to the topic while following.
    const p = (await readPartitions(this.deps, this.topic))?.find((x) => x.partition === partition);
    return this.addPartition(partition, p ? (p.redo[0]?.first ?? p.next) : 0n, p?.redo ?? []);
  }

  /** Joined (once per attempt, unless Kafka forces a rebalance): start each partition where the manifest ends. */
  private onJoin(assignment: Record<string, number[] | undefined>): void {
    this.cursor.groupJoins++;
    const assigned = new Set(assignment[this.topic] ?? []);
    this.log.info({ partitions: [...assigned], groupJoins: this.cursor.groupJoins }, 'follower joined the consumer group');
    for (const st of this.states.values()) {
      if (assigned.has(st.partition)) continue;
      // Another member got it: what was buffered is read again by whoever archives it.
      if (st.buffer?.redo) st.redo.unshift(st.buffer.redo);
      st.buffer?.discard();
      st.buffer = undefined;
      st.expected = st.next;
    }
    for (const partition of assigned) {
      const st = this.states.get(partition);
      if (st) this.consumer!.seek({ topic: this.topic, partition, offset: st.expected.toString() });
    }
  }

  private async onBatch({ batch, heartbeat }: EachBatchPayload): Promise<void> {
    if (this.stopping) return;
    const st = await this.stateFor(batch.partition);
    for (const m of batch.messages) {
      const offset = BigInt(m.offset);
      if (offset < st.expected) continue;
      // A redo ends at its planned last offset: later records belong to the next object.
      while (st.buffer?.redo && offset > st.buffer.redo.last) await this.flush(st);
      st.buffer ??= this.open(st);
      st.buffer.append(m);
      st.expected = offset + 1n;
      if (st.buffer.redo ? offset >= st.buffer.redo.last : st.buffer.records >= this.maxRecords) await this.flush(st);
    }
    // Offsets without records (transaction markers) can end a redo range: the batch says we passed it.
    if (st.buffer?.redo && BigInt(batch.lastOffset()) >= st.buffer.redo.last) await this.flush(st);
    await heartbeat();
  }

  private open(st: PartitionState): PartitionBuffer {
    const redo = st.redo.shift();
    return new PartitionBuffer(this.topic, st.partition, redo ? redo.first : st.next, redo);
  }

  private async flushDue(): Promise<void> {
    if (this.stopping) return;
    const now = Date.now();
    for (const st of this.states.values()) {
      const b = st.buffer;
      if (b && !b.redo && b.records > 0 && now - b.openedAt >= this.input.flushIntervalMs) await this.flush(st);
    }
  }

  /** Stopping: everything read is written; an unfinished redo stays pending for the next archiver. */
  private async flushAll(): Promise<void> {
    for (const st of this.states.values()) {
      if (st.buffer && !st.buffer.redo && st.buffer.records > 0) await this.flush(st);
      st.buffer?.discard();
      st.buffer = undefined;
    }
  }

  private async flush(st: PartitionState): Promise<void> {
    const b = st.buffer!;
    const { key, records } = await writeObject(this.deps, this.input.stream, b);
    st.buffer = undefined;
    st.next = b.last + 1n;
    if (st.expected < st.next) st.expected = st.next;
    // The manifest is the truth; committed offsets only feed lag tools, so a commit refused during a
    // rebalance is logged and made good by the partition's next flush.
    await this.consumer!.commitOffsets([{ topic: this.topic, partition: st.partition, offset: st.next.toString() }]).catch((err: unknown) =>
      this.log.warn({ err: String(err), partition: st.partition }, 'offset commit refused; the next flush commits again'),
    );
    this.cursor.objectsArchived++;
    this.cursor.recordsArchived += records;
    this.cursor.offsets[st.partition] = st.next.toString();
    this.cursor.lastFlushAt = new Date().toISOString();
    if (records > 0)
      this.ctx.metricMeter
        .createCounter('etl_records_archived', 'records', 'Kafka records written to bronze objects')
        .add(records, { stream: this.input.stream });
    this.log.info({ partition: st.partition, first: String(b.first), last: String(b.last), key, records }, 'archived bronze object');
    this.heartbeat();
  }

  private heartbeat(): void {
    let buffered = 0;
    for (const st of this.states.values()) buffered += st.buffer?.records ?? 0;
    this.cursor.buffered = buffered;
    this.ctx.heartbeat(this.cursor);
  }
}
