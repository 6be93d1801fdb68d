// One bronze object under construction, and the step that makes it durable. This is where the
// exactly-once rule of the archive is kept: an object's offset range is planned in the manifest
// ('pending') before the object is put (at open for a planned range, else here), the row becomes
// 'archived' once S3 holds the object, and only then does the caller commit Kafka offsets. A range a
// crash left pending is rewritten exactly, to the same key, so each offset is in exactly one object.
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { KafkaMessage } from 'kafkajs';
import { bronzeKey } from '../../lib/lake';
import { NDJSON_CODECS, NdjsonObjectBuffer, putNdjsonObject, type NdjsonCodec } from '../../lib/ndjson';
import { bronzeLine, markArchived, planRange, type Plan } from './bronze';
import type { ActivityDeps } from '../deps';

export class OpenRange {
  private readonly body: NdjsonObjectBuffer;
  records = 0;
  /** Last offset appended; a range planned at flush ends here. */
  lastAppended: bigint;
  firstTs: number | undefined;
  minTs = Infinity;
  maxTs = -Infinity;
  /** When it was opened: an at-flush range is due once it is a flush age old. */
  readonly openedAt = Date.now();

  /**
   * @param first first offset: the previous object's last + 1, so ranges stay contiguous even
   *   across offsets without records (transaction markers, compaction)
   * @param plan the manifest row of a range planned before it was read (batch, or a crashed
   *   attempt's pending range): it ends at the planned last offset
   * @param redo the plan is a crashed attempt's pending range, rewritten now
   */
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly first: bigint,
    readonly plan: Plan | undefined,
    readonly redo: boolean,
    codec: NdjsonCodec,
  ) {
    this.lastAppended = first - 1n;
    this.body = new NdjsonObjectBuffer(codec);
  }

  /** The offset the object ends at: a planned range's last, else the last record read. */
  get last(): bigint {
    return this.plan ? this.plan.last : this.lastAppended;
  }

  /** A planned range is complete at its last offset; one planned at flush when it holds maxRecords. */
  isFull(maxRecords: number): boolean {
    return this.plan ? this.lastAppended >= this.plan.last : this.records >= maxRecords;
  }

  append(m: KafkaMessage): void {
    const ts = Number(m.timestamp);
    this.firstTs ??= ts;
    if (ts < this.minTs) this.minTs = ts;
    if (ts > this.maxTs) this.maxTs = ts;
    this.body.write(bronzeLine(this.topic, this.partition, m));
    this.records++;
    this.lastAppended = BigInt(m.offset);
  }

  discard(): void {
    this.body.discard();
  }

  /**
   * Writes the range as one bronze object: planned unless it was, put to S3 under the key its range
   * and first record name, then marked 'archived'. The caller commits offsets after.
   */
  async write(deps: Pick<ActivityDeps, 'pool' | 's3' | 'config'>, stream: string): Promise<{ key: string; bytes: number }> {
    const { pool, s3, config } = deps;
    const codec = config.BRONZE_CODEC;
    const body = await this.body.finish();
    const keyOf = (c: NdjsonCodec) => bronzeKey(config.S3_PREFIX, this.topic, this.partition, this.first, this.last, this.firstTs ?? 0, c);
    const key = keyOf(codec);
    const planId = this.plan?.id ?? (await planRange(pool, stream, this.topic, this.partition, this.first, this.last));
    await putNdjsonObject(s3, config.S3_BUCKET, key, body, codec);
    if (this.redo) {
      // A crashed attempt may have put this range under the other codec's key (BRONZE_CODEC changed
      // in between): removed, so the bucket too holds each offset once. Deleting a missing key is a no-op.
      for (const other of NDJSON_CODECS.filter((c) => c !== codec))
        await s3.send(new DeleteObjectCommand({ Bucket: config.S3_BUCKET, Key: keyOf(other) }));
    }
    await markArchived(pool, planId, { key, records: this.records, bytes: body.length, minTs: this.minTs, maxTs: this.maxTs });
    return { key, bytes: body.length };
  }
}
