// Streaming gzip NDJSON in and out of S3: objects are never held whole in memory.
import { once } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip, createGzip, constants as zlib } from 'node:zlib';
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { EtlError } from './errors';

export class NdjsonGzipWriter {
  private readonly gzip = createGzip({ level: zlib.Z_BEST_SPEED });
  private readonly counted = new PassThrough();
  private readonly upload: Upload;
  private readonly done: Promise<unknown>;
  private failure: unknown;
  lines = 0;
  compressedBytes = 0;

  constructor(s3: S3Client, bucket: string, key: string) {
    this.gzip.pipe(this.counted);
    this.counted.on('data', (chunk: Buffer) => (this.compressedBytes += chunk.length));
    const body = new PassThrough();
    this.counted.pipe(body);
    this.upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: key, Body: body, ContentType: 'application/x-ndjson', ContentEncoding: 'gzip' },
      queueSize: 2,
      partSize: 8 * 1024 * 1024,
      leavePartsOnError: false,
    });
    this.done = this.upload.done();
    this.done.catch((err: unknown) => {
      this.failure = err;
      this.gzip.destroy();
    });
  }

  async write(line: string): Promise<void> {
    if (this.failure) throw this.failure;
    this.lines++;
    if (!this.gzip.write(line + '\n')) await Promise.race([once(this.gzip, 'drain'), this.done]);
  }

  /** Ends the object and waits until S3 has it durably. */
  async close(): Promise<void> {
    if (this.failure) throw this.failure;
    this.gzip.end();
    await this.done;
  }

  async abort(): Promise<void> {
    await this.upload.abort().catch(() => undefined);
    this.gzip.destroy();
  }
}

/** The gunzipped byte stream of an object (for COPY); errors of the download surface on it. */
export async function openGzipObject(s3: S3Client, bucket: string, key: string): Promise<Readable> {
  let body: Readable;
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    body = res.Body as Readable;
  } catch (err) {
    if (err instanceof NoSuchKey) throw new EtlError('BRONZE_OBJECT_MISSING', `s3://${bucket}/${key} does not exist`, { cause: err });
    throw err;
  }
  const gunzip = createGunzip();
  body.on('error', (err) => gunzip.destroy(err));
  return body.pipe(gunzip);
}

/** Lines of a gzip NDJSON object, streamed. */
export async function* readNdjsonGzip(s3: S3Client, bucket: string, key: string): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of await openGzipObject(s3, bucket, key)) {
    const lines = (rest + decoder.write(chunk as Buffer)).split('\n');
    rest = lines.pop()!;
    for (const line of lines) if (line.length > 0) yield line;
  }
  rest += decoder.end();
  if (rest.length > 0) yield rest;
}
