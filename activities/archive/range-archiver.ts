// The one archiver of Kafka ranges into bronze objects, for the batch archive (archive.ts) and the
// continuous follower (follow.ts); policy.ts holds what differs between them. Per partition it keeps
// one open range (open-range.ts, where the exactly-once rule lives): it skips what a re-fetch hands
// it again (after a rebalance or a broker restart, kafkajs fetches from the last committed offset),
// redoes the ranges a crashed attempt left pending first and exactly, writes a range when it is
// full (or, planned at flush, old enough), and commits offsets only after the manifest says
// 'archived'. The manifest, not the consumer group, is the source of truth.
import { CancelledFailure, Context } from '@temporalio/activity';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import { EtlError } from '../../lib/errors';
import { archiveGroup, FETCH_MAX_BYTES, FETCH_MAX_BYTES_PER_PARTITION, withKafkaErrors } from '../../lib/kafka';
import { bronzeLine, planRange, readPartitions, splitPlan, type PartitionStart, type Plan } from './bronze';
import { resumedCursor, type FollowCursor } from './follow-cursor';
import { OpenRange } from './open-range';
import type { ArchivePolicy } from './policy';
import type { ActivityDeps } from '../deps';
import { beat } from '../attempts';

const TICK_MS = 250;

interface PartitionState {
  partition: number;
  /** First offset of the next object: everything before it is in archived (or pending) objects. */
  next: bigint;
  /** Next offset to append: records before it are archived or in the open range, so a re-fetch skips them. */
  expected: bigint;
  /** High watermark when the run started: the snapshot a batch run archives up to. */
  high: bigint;
  /** Planned-but-unfinished ranges left by a crashed attempt, redone first. */
  redo: Plan[];
  open?: OpenRange;
}

export interface ArchiveTotals {
  /** What it heartbeats: offsets and counts (a follower's carry on over retried attempts). */
  cursor: FollowCursor;
  /** Every partition is archived up to the high watermark read at the start. */
  caughtUp: boolean;
}

export class RangeArchiver {
  private readonly ctx = Context.current();
  private readonly states = new Map<number, PartitionState>();
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
  /** Batches, joins, time flushes and the final flush run one at a time: a range has one writer. */
  private queue: Promise<unknown> = Promise.resolve();
  private stopping = false;
  /** Ranges opened from a plan (up front or a redo): at most policy.maxObjects. */
  private planned = 0;
  private lastProgressAt = Date.now();
  private reachedSnapshot: () => void = () => undefined;

  constructor(
    private readonly deps: ActivityDeps,
    private readonly stream: string,
    private readonly topic: string,
    private readonly policy: ArchivePolicy,
  ) {
    this.log = deps.logger.child({ topic });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  async run(): Promise<ArchiveTotals> {
    const following = this.policy.stopWhen === 'cancelled';
    if (following) await this.resume();
    const partitions = await this.startingPoints();
    if (!partitions) return this.totals();
    for (const p of partitions) this.addPartition(p);
    if (this.policy.plan === 'upFront') for (const st of this.states.values()) st.open = await this.openNext(st);
    if (!following && !this.hasWork()) return this.totals();

    const { kafka, config } = this.deps;
    const consumer = kafka.consumer({
      groupId: archiveGroup(config, this.topic),
      allowAutoTopicCreation: false,
      // What one fetch holds, whatever the records' size; a compressed batch's expansion is bounded by the codecs (lib/kafka-codecs.ts).
      maxBytes: FETCH_MAX_BYTES,
      maxBytesPerPartition: FETCH_MAX_BYTES_PER_PARTITION,
      ...this.policy.consumer,
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
    const ended = following
      ? this.ctx.cancelled.catch(() => undefined)
      : new Promise<void>((resolve) => {
          this.reachedSnapshot = resolve;
          this.ctx.cancelled.catch(fail);
        });
    consumer.on(consumer.events.CRASH, (e) => {
      if (!e.payload.restart) fail(e.payload.error);
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.serial(() => this.onJoin(e.payload.memberAssignment)).catch(fail);
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
      const timer = setInterval(() => this.tick(fail), TICK_MS);
      try {
        await Promise.race([ended, failed]);
      } finally {
        clearInterval(timer);
      }
      if (following) {
        this.log.info({ reason: this.ctx.cancellationDetails ?? null }, 'follower stopping: writing what it has read');
        this.stopping = true;
        consumer.pause([{ topic: this.topic }]);
        await this.serial(() => this.flushAll());
      }
    } catch (err) {
      for (const st of this.states.values()) st.open?.discard();
      throw err;
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
    return this.totals();
  }

  private totals(): ArchiveTotals {
    this.heartbeat();
    const caughtUp = [...this.states.values()].every((s) => !s.open && s.redo.length === 0 && s.next >= s.high);
    return { cursor: { ...this.cursor }, caughtUp };
  }

  /** A retried follower carries on the counts of the attempts before it (follow-cursor.ts). */
  private async resume(): Promise<void> {
    const resumed = await resumedCursor(this.deps.pool, this.topic, this.ctx.info.heartbeatDetails);
    if (!resumed) return;
    Object.assign(this.cursor, resumed.cursor);
    this.log.info(
      { attempt: this.ctx.info.attempt, offsets: resumed.cursor.offsets, writtenAfterHeartbeat: resumed.writtenAfterHeartbeat },
      'follower resuming from its last heartbeat',
    );
  }

  /** Partitions from the watermarks and the manifest; a follower waits for the topic (undefined when cancelled first). */
  private async startingPoints(): Promise<PartitionStart[] | undefined> {
    for (;;) {
      const partitions = await readPartitions(this.deps, this.topic);
      if (partitions || this.policy.stopWhen === 'snapshot') return partitions;
      this.heartbeat();
      try {
        await this.ctx.sleep(this.policy.flushAgeMs ?? TICK_MS);
      } catch (err) {
        if (err instanceof CancelledFailure) return undefined;
        throw err;
      }
    }
  }

  private addPartition(p: PartitionStart): PartitionState {
    const next = p.redo[0]?.first ?? p.next;
    const heartbeated = this.cursor.offsets[p.partition];
    // The manifest is the truth: it can only be ahead of a heartbeat (objects written after it).
    if (heartbeated !== undefined && BigInt(heartbeated) > next) {
      this.log.warn(
        { partition: p.partition, heartbeated, manifest: String(next) },
        'the manifest is behind the last heartbeat; archiving from the manifest',
      );
    }
    const st: PartitionState = { partition: p.partition, next, expected: next, high: p.high, redo: [...p.redo] };
    this.states.set(p.partition, st);
    this.cursor.offsets[p.partition] = String(next);
    return st;
  }

  /** A partition added to the topic while following is followed from its start; a batch run keeps its snapshot. */
  private async stateFor(partition: number): Promise<PartitionState | undefined> {
    const known = this.states.get(partition);
    if (known || this.policy.stopWhen === 'snapshot') return known;
    const p = (await readPartitions(this.deps, this.topic))?.find((x) => x.partition === partition);
    return this.addPartition(p ?? { partition, low: 0n, high: 0n, next: 0n, redo: [] });
  }

  /** The next range of a partition: a crashed attempt's pending plan first, else a new one as the policy plans. */
  private async openNext(st: PartitionState): Promise<OpenRange | undefined> {
    const codec = this.deps.config.BRONZE_CODEC;
    const redo = st.redo.shift();
    if (redo) {
      this.planned++;
      return new OpenRange(this.topic, st.partition, redo.first, redo, true, codec);
    }
    if (this.policy.plan === 'atFlush') return new OpenRange(this.topic, st.partition, st.next, undefined, false, codec);
    if (this.planned >= this.policy.maxObjects || st.next >= st.high) return undefined;
    const first = st.next;
    const end = first + BigInt(this.policy.maxRecords);
    const last = (end < st.high ? end : st.high) - 1n;
    const id = await planRange(this.deps.pool, { stream: this.stream, topic: this.topic, partition: st.partition }, first, last);
    this.planned++;
    return new OpenRange(this.topic, st.partition, first, { id, first, last }, false, codec);
  }

  /** Whether a batch run has anything left to read. */
  private hasWork(): boolean {
    const canPlan = this.planned < this.policy.maxObjects;
    return [...this.states.values()].some((s) => s.open || s.redo.length > 0 || (canPlan && s.next < s.high));
  }

  /** Joined (once per attempt, unless Kafka forces a rebalance): each assigned partition reads on from where it is. */
  private async onJoin(assignment: Record<string, number[] | undefined>): Promise<void> {
    this.cursor.groupJoins++;
    const assigned = new Set(assignment[this.topic] ?? []);
    this.log.info({ partitions: [...assigned], groupJoins: this.cursor.groupJoins }, 'archiver joined the consumer group');
    for (const st of this.states.values()) {
      if (assigned.has(st.partition) || !st.open) continue;
      // Another member got it: a planned range stays pending and is redone by whoever archives it.
      if (st.open.plan) {
        st.redo.unshift(st.open.plan);
        this.planned--;
      }
      st.open.discard();
      st.open = undefined;
      st.expected = st.next;
    }
    const idle: number[] = [];
    for (const partition of assigned) {
      const st = this.states.get(partition);
      if (!st) continue;
      if (this.policy.plan === 'upFront') st.open ??= await this.openNext(st);
      if (this.policy.plan === 'upFront' && !st.open) idle.push(partition);
      else this.consumer!.seek({ topic: this.topic, partition, offset: st.expected.toString() });
    }
    if (idle.length) this.consumer!.pause([{ topic: this.topic, partitions: idle }]);
    this.checkSnapshot();
  }

  private async onBatch({ batch, heartbeat }: EachBatchPayload): Promise<void> {
    if (this.stopping) return;
    const st = await this.stateFor(batch.partition);
    if (!st) return;
    const { maxRecords, maxBytes } = this.policy;
    for (const m of batch.messages) {
      const offset = BigInt(m.offset);
      if (offset < st.expected) continue;
      // A planned range ends at its planned last offset: later records belong to the next object.
      while (st.open?.plan && offset > st.open.plan.last) await this.write(st);
      const line = bronzeLine(this.topic, st.partition, m, maxBytes);
      const lineBytes = Buffer.byteLength(line) + 1;
      // A range is cut by bytes before the record that would pass the bound (a planned one is split).
      if (st.open && !st.open.fits(lineBytes, maxBytes)) await this.cut(st);
      if (!st.open && this.policy.plan === 'atFlush') st.open = await this.openNext(st);
      if (!st.open) break; // a batch run planned all it may
      await st.open.append(m, line, lineBytes);
      st.expected = offset + 1n;
      if (st.open.isFull(maxRecords, maxBytes)) await this.write(st);
    }
    // Offsets without records (transaction markers) can end a planned range: the batch says we passed it.
    if (st.open?.plan && BigInt(batch.lastOffset()) >= st.open.plan.last) await this.write(st);
    this.lastProgressAt = Date.now();
    await heartbeat();
  }

  private tick(fail: (err: unknown) => void): void {
    this.heartbeat();
    if (this.policy.flushAgeMs !== undefined) this.serial(() => this.flushDue()).catch(fail);
    const stall = this.policy.stallTimeoutMs;
    if (stall !== undefined && Date.now() - this.lastProgressAt > stall) {
      fail(
        new EtlError(
          'KAFKA_UNREACHABLE',
          `no records from ${this.topic} for ${stall / 1000}s while archiving (brokers ${this.deps.config.KAFKA_BROKERS.join(',')})`,
        ),
      );
    }
  }

  private async flushDue(): Promise<void> {
    if (this.stopping) return;
    const now = Date.now();
    for (const st of this.states.values()) {
      const r = st.open;
      if (r && !r.plan && r.records > 0 && now - r.openedAt >= this.policy.flushAgeMs!) await this.write(st);
    }
  }

  /** Stopping: everything read is written; an unfinished planned range stays pending for the next archiver. */
  private async flushAll(): Promise<void> {
    for (const st of this.states.values()) {
      if (st.open && !st.open.plan && st.open.records > 0) await this.write(st);
      st.open?.discard();
      st.open = undefined;
    }
  }

  /**
   * Writes the open range as it is, before a record that would pass the byte bound. A planned range
   * ends here now: the rest of its plan becomes a pending range of its own, opened next (redone by
   * the next attempt after a crash), so the same records always cut at the same offsets.
   */
  private async cut(st: PartitionState): Promise<void> {
    const r = st.open!;
    if (r.plan && r.lastAppended < r.plan.last) {
      const rest = await splitPlan(
        this.deps.pool,
        { stream: this.stream, topic: this.topic, partition: st.partition },
        r.plan,
        r.lastAppended,
      );
      r.plan = { ...r.plan, last: r.lastAppended };
      st.redo.unshift(rest);
    }
    await this.write(st);
  }

  private async write(st: PartitionState): Promise<void> {
    const r = st.open!;
    const { key } = await r.write(this.deps, this.stream);
    st.open = undefined;
    st.next = r.last + 1n;
    if (st.expected < st.next) st.expected = st.next;
    // The manifest is the truth; committed offsets only feed lag tools (every run seeks to the
    // manifest's offsets), so a commit refused during a rebalance is logged and made good by the next object.
    await this.consumer!.commitOffsets([{ topic: this.topic, partition: st.partition, offset: st.next.toString() }]).catch((err: unknown) =>
      this.log.warn({ err: String(err), partition: st.partition }, 'offset commit refused; the next object commits again'),
    );
    this.cursor.objectsArchived++;
    this.cursor.recordsArchived += r.records;
    this.cursor.offsets[st.partition] = st.next.toString();
    this.cursor.lastFlushAt = new Date().toISOString();
    if (r.records > 0)
      this.ctx.metricMeter
        .createCounter('etl_records_archived', 'records', 'Kafka records written to bronze objects')
        .add(r.records, { stream: this.stream });
    this.log.info(
      { partition: st.partition, first: String(r.first), last: String(r.last), key, records: r.records },
      'archived bronze object',
    );
    this.lastProgressAt = Date.now();
    this.heartbeat();
    if (this.policy.plan === 'upFront') {
      st.open = await this.openNext(st);
      if (!st.open) this.consumer!.pause([{ topic: this.topic, partitions: [st.partition] }]);
      this.checkSnapshot();
    }
  }

  private checkSnapshot(): void {
    if (this.policy.stopWhen === 'snapshot' && !this.hasWork()) this.reachedSnapshot();
  }

  private heartbeat(): void {
    let buffered = 0;
    for (const st of this.states.values()) buffered += st.open?.records ?? 0;
    this.cursor.buffered = buffered;
    beat(this.cursor, this.ctx);
  }
}
