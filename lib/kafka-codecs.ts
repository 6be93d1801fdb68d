// Bounded decompression of Kafka record batches. kafkajs inflates a compressed batch whole and then
// decodes every record of it, so one batch of a few hundred compressed KB can expand to gigabytes
// (a compression bomb, or a producer's batch of big records) and kill the worker on every retry.
// These codecs replace kafkajs's gzip (and add zstd, which Node has) with a streaming inflate that
// walks the records as they come out: a record that fits in the batch's budget
// (KAFKA_MAX_BATCH_BYTES) is passed on byte for byte; one that does not is replaced by a stand-in
// with the same offset and timestamp whose value is the original value's first bytes and whose
// header (named with a per-process random token, so no producer can forge it) says its size and
// SHA-256. The archive writes a stand-in as a TOO_LARGE record (activities/archive/bronze.ts), the
// transform quarantines it, and the partition goes on. Memory: the budget, plus a small stand-in
// per record set aside.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { CompressionCodecs, CompressionTypes, type KafkaMessage } from 'kafkajs';
import { PAYLOAD_PREFIX_BYTES } from './lake';

const SET_ASIDE_HEADER = `etl-set-aside-${randomBytes(8).toString('hex')}`;

export interface SetAside {
  bytes: number;
  sha256: string;
  why: string;
}

/** What the bounded decompression said of a record it set aside; undefined for a record passed on whole. */
export function setAsideByDecompression(m: Pick<KafkaMessage, 'headers'>): SetAside | undefined {
  const h = m.headers?.[SET_ASIDE_HEADER];
  if (!Buffer.isBuffer(h)) return undefined;
  return JSON.parse(h.toString('utf8')) as SetAside; // written by this process, below
}

class Truncated extends Error {}

/** Reads a stream of chunks as Kafka's record encoding: bytes, zigzag varints, and runs of bytes handed on as slices. */
class ChunkReader {
  private chunk: Buffer = Buffer.alloc(0);
  private pos = 0;
  constructor(private readonly chunks: AsyncIterator<Buffer>) {}

  /** False at the end of the stream. */
  async more(): Promise<boolean> {
    while (this.pos >= this.chunk.length) {
      const n = await this.chunks.next();
      if (n.done) return false;
      this.chunk = n.value;
      this.pos = 0;
    }
    return true;
  }

  async byte(): Promise<number> {
    if (!(await this.more())) throw new Truncated('the batch ends inside a record');
    return this.chunk[this.pos++]!;
  }

  /** A varint (or varlong) as its raw bytes, and its zigzag-decoded value when it fits a number. */
  async varint(): Promise<{ raw: Buffer; value: number }> {
    const raw: number[] = [];
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = await this.byte();
      raw.push(b);
      value += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0 || raw.length === 10) break;
    }
    // zigzag: 0 → 0, 1 → -1, 2 → 1, …
    return { raw: Buffer.from(raw), value: value % 2 === 0 ? value / 2 : -(value + 1) / 2 };
  }

  /** Consumes n bytes, handing them on in slices. */
  async take(n: number, sink: (slice: Buffer) => void): Promise<void> {
    let left = n;
    while (left > 0) {
      if (!(await this.more())) throw new Truncated('the batch ends inside a record');
      const slice = this.chunk.subarray(this.pos, this.pos + left);
      this.pos += slice.length;
      left -= slice.length;
      sink(slice);
    }
  }
}

function varint(n: number): Buffer {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Buffer.from(out);
}

const bytesField = (b: Buffer) => Buffer.concat([varint(b.length), b]);

/**
 * The record at the reader, whose body of `length` bytes does not fit the budget, read through and
 * replaced by its stand-in: attributes, timestamp and offset deltas as they were, no key, the
 * value's first bytes, and the set-aside header.
 */
async function standIn(r: ChunkReader, length: number, why: string): Promise<Buffer> {
  let read = 0;
  const counted = async <T extends { raw: Buffer } | number>(p: Promise<T>): Promise<T> => {
    const v = await p;
    read += typeof v === 'number' ? 1 : v.raw.length;
    return v;
  };
  const attributes = await counted(r.byte());
  const timestampDelta = await counted(r.varint());
  const offsetDelta = await counted(r.varint());
  const keyLength = await counted(r.varint());
  if (keyLength.value > 0) await r.take(keyLength.value, () => undefined);
  read += Math.max(0, keyLength.value);
  const valueLength = await counted(r.varint());
  const hash = createHash('sha256');
  const prefix: Buffer[] = [];
  let kept = 0;
  const size = Math.max(0, valueLength.value);
  await r.take(size, (slice) => {
    hash.update(slice);
    if (kept < PAYLOAD_PREFIX_BYTES) {
      const part = Buffer.from(slice.subarray(0, PAYLOAD_PREFIX_BYTES - kept)); // a copy: the chunk is not retained
      prefix.push(part);
      kept += part.length;
    }
  });
  read += size;
  if (length - read > 0) await r.take(length - read, () => undefined); // its headers
  const said: SetAside = { bytes: size, sha256: hash.digest('hex'), why };
  const body = Buffer.concat([
    Buffer.from([attributes]),
    timestampDelta.raw,
    offsetDelta.raw,
    varint(-1),
    valueLength.value < 0 ? varint(-1) : bytesField(Buffer.concat(prefix)),
    varint(1),
    bytesField(Buffer.from(SET_ASIDE_HEADER)),
    bytesField(Buffer.from(JSON.stringify(said))),
  ]);
  return Buffer.concat([varint(body.length), body]);
}

/** The records of an inflated batch, each passed on whole while the batch stays within `budget` bytes, else a stand-in. */
export async function boundedRecords(inflated: AsyncIterable<Buffer>, budget: number): Promise<Buffer> {
  const r = new ChunkReader(inflated[Symbol.asyncIterator]());
  const out: Buffer[] = [];
  let used = 0;
  while (await r.more()) {
    const length = await r.varint();
    if (length.value < 0) throw new Truncated(`a record of negative length ${length.value}`);
    if (used + length.raw.length + length.value <= budget) {
      used += length.raw.length + length.value;
      out.push(length.raw);
      await r.take(length.value, (slice) => out.push(slice));
      continue;
    }
    const s = await standIn(r, length.value, `its compressed batch expands past KAFKA_MAX_BATCH_BYTES (${budget})`);
    used += s.length;
    out.push(s);
  }
  return Buffer.concat(out);
}

const gzip = promisify(zlib.gzip);
const zstd = promisify(zlib.zstdCompress);

function codec(compress: (b: Buffer) => Promise<Buffer>, inflater: () => zlib.Gunzip | zlib.Unzip | zlib.ZstdDecompress, budget: number) {
  return () => ({
    compress: async (encoder: { buffer: Buffer }) => compress(encoder.buffer),
    decompress: async (buffer: Buffer) => {
      const inflate = inflater();
      Readable.from([buffer]).pipe(inflate);
      return boundedRecords(inflate as AsyncIterable<Buffer>, budget);
    },
  });
}

/**
 * Installs the bounded codecs in kafkajs (its codecs are per process): every consumer of this
 * process then inflates at most `maxBatchBytes` of a batch's records.
 */
export function boundKafkaDecompression(maxBatchBytes: number): void {
  CompressionCodecs[CompressionTypes.GZIP] = codec(gzip, () => zlib.createUnzip(), maxBatchBytes);
  CompressionCodecs[CompressionTypes.ZSTD] = codec(zstd, () => zlib.createZstdDecompress(), maxBatchBytes);
}
