// Compressed NDJSON in and out of S3. Bronze objects are written by one writer (NdjsonObjectBuffer +
// putNdjsonObject) in gzip or zstd; every reader opens any object through openNdjsonObject, which
// picks the decompressor by the object's magic bytes, so objects of either codec (and those written
// before zstd existed) read the same way.
import { once } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import {
  createGunzip,
  createGzip,
  createZstdCompress,
  createZstdDecompress,
  constants as zlib,
  type Gzip,
  type ZstdCompress,
} from 'node:zlib';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { EtlError } from './errors';

export type NdjsonCodec = 'gzip' | 'zstd';
export const NDJSON_CODECS: readonly NdjsonCodec[] = ['gzip', 'zstd'];

/** The key suffix of an NDJSON object of a codec: DuckDB, Spark and the like pick the codec by it. */
export function ndjsonExtension(codec: NdjsonCodec): string {
  return codec === 'zstd' ? '.ndjson.zst' : '.ndjson.gz';
}

/** The codec whose frame these first bytes start: gzip 1f 8b, zstd 28 b5 2f fd (RFC 1952, RFC 8878). */
export function codecOfBytes(head: Uint8Array): NdjsonCodec | undefined {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return undefined;
}

/** The fastest level of each codec that the bronze-codec figures of docs/performance.md chose. */
function compressor(codec: NdjsonCodec): Gzip | ZstdCompress {
  return codec === 'zstd'
    ? createZstdCompress({ params: { [zlib.ZSTD_c_compressionLevel]: 1 } })
    : createGzip({ level: zlib.Z_BEST_SPEED });
}

/**
 * Lines go to the compressor in chunks of about this many characters: one zlib call per line costs
 * about ten times the compression itself (measured, docs/performance.md "Bronze codec").
 */
const CHUNK_CHARS = 64 * 1024;

/**
 * One object's NDJSON, compressed as lines arrive and kept in memory until it is complete: a bronze
 * object's key names its last offset and its first record's time, so it is only known at the end.
 * Its size is bounded by the thresholds of an object (ARCHIVE_MAX_RECORDS_PER_OBJECT, ARCHIVE_MAX_OBJECT_BYTES).
 */
export class NdjsonObjectBuffer {
  private readonly stream: Gzip | ZstdCompress;
  private readonly chunks: Buffer[] = [];
  private readonly ended: Promise<void>;
  private pending = '';
  lines = 0;

  constructor(readonly codec: NdjsonCodec) {
    this.stream = compressor(codec);
    this.stream.on('data', (c: Buffer) => this.chunks.push(c));
    this.ended = new Promise((resolve, reject) => {
      this.stream.once('end', resolve);
      this.stream.once('error', reject);
    });
    this.ended.catch(() => undefined); // surfaced by finish()
  }

  /**
   * Adds a line; resolves once the compressor can take more (its backpressure), so the lines
   * waiting for compression stay within a chunk or two, however fast they arrive.
   */
  async write(line: string): Promise<void> {
    this.pending += line + '\n';
    this.lines++;
    if (this.pending.length >= CHUNK_CHARS && !this.flushPending()) await Promise.race([once(this.stream, 'drain'), this.ended]);
  }

  /** False when the compressor's buffer is full. */
  private flushPending(): boolean {
    if (this.pending.length === 0) return true;
    const more = this.stream.write(this.pending);
    this.pending = '';
    return more;
  }

  /** Ends the stream and returns the whole compressed object. */
  async finish(): Promise<Buffer> {
    this.flushPending();
    this.stream.end();
    await this.ended;
    return Buffer.concat(this.chunks);
  }

  discard(): void {
    this.pending = '';
    this.stream.destroy();
  }
}

/** Puts a complete NDJSON object; S3 holds it durably when this resolves. */
export async function putNdjsonObject(s3: S3Client, bucket: string, key: string, body: Buffer, codec: NdjsonCodec): Promise<void> {
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/x-ndjson', ContentEncoding: codec }),
  );
}

/** Reads from a paused stream until it has at least n bytes or ends; what it read is returned, not put back. */
async function readHead(body: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < n) {
    const chunk = body.read() as Buffer | null;
    if (chunk !== null) {
      chunks.push(chunk);
      length += chunk.length;
      continue;
    }
    if (body.readableEnded || body.destroyed) break;
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        body.off('readable', done).off('end', done).off('error', fail);
        resolve();
      };
      const fail = (err: Error) => {
        body.off('readable', done).off('end', done).off('error', fail);
        reject(err);
      };
      body.on('readable', done).on('end', done).on('error', fail);
    });
  }
  return Buffer.concat(chunks);
}

/**
 * The decompressed byte stream of an NDJSON object of either codec, chosen by its magic bytes (an
 * object without a known one goes to gunzip, whose error then names the problem); errors of the
 * download surface on it.
 */
export async function openNdjsonObject(s3: S3Client, bucket: string, key: string): Promise<Readable> {
  let body: Readable;
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    body = res.Body as Readable;
  } catch (err) {
    if (err instanceof NoSuchKey) throw new EtlError('BRONZE_OBJECT_MISSING', `s3://${bucket}/${key} does not exist`, { cause: err });
    throw err;
  }
  const head = await readHead(body, 4);
  const decoder = codecOfBytes(head) === 'zstd' ? createZstdDecompress() : createGunzip();
  body.on('error', (err) => decoder.destroy(err));
  decoder.write(head);
  body.pipe(decoder);
  return decoder;
}

/** Lines of an NDJSON object of either codec, streamed. */
export async function* readNdjsonObject(s3: S3Client, bucket: string, key: string): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of await openNdjsonObject(s3, bucket, key)) {
    const lines = (rest + decoder.write(chunk as Buffer)).split('\n');
    rest = lines.pop()!;
    for (const line of lines) if (line.length > 0) yield line;
  }
  rest += decoder.end();
  if (rest.length > 0) yield rest;
}
