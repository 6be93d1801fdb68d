// Read-only S3 fixtures shared by every run on this machine: objects that take minutes to upload
// (20,000 small files) go up once, under a prefix named by the SHA-256 of their keys and bodies, so a
// changed fixture gets a prefix of its own and no test can read a stale one. A marker object beside
// the prefix, written after the last upload, says the fixture is whole; a run that dies half-way
// leaves no marker, and the next run uploads again (PUTs of the same bytes). Tests only read it: each
// still registers what it finds in its own schema, under its own task queue.
import { createHash } from 'node:crypto';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export interface FixtureObject {
  /** Key under the fixture's prefix. */
  key: string;
  body: string;
}

const UPLOADS_AT_ONCE = 64;

async function exists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

/** The prefix (`test-fixtures/<name>-<hash>/`) holding `objects`, uploading them first unless a whole copy is there. */
export async function sharedS3Fixture(s3: S3Client, bucket: string, name: string, objects: readonly FixtureObject[]): Promise<string> {
  const hash = createHash('sha256');
  for (const o of objects) hash.update(`${o.key}\0${o.body}\0`);
  const stamp = `test-fixtures/${name}-${hash.digest('hex').slice(0, 16)}`;
  const prefix = `${stamp}/`;
  const marker = `${stamp}.complete`;
  if (await exists(s3, bucket, marker)) return prefix;
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < objects.length; i = next++) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: prefix + objects[i]!.key, Body: objects[i]!.body }));
    }
  };
  await Promise.all(Array.from({ length: UPLOADS_AT_ONCE }, lane));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: marker, Body: `${objects.length} objects\n` }));
  return prefix;
}
