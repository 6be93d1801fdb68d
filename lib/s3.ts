import { CreateBucketCommand, HeadBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { Config } from './config';
import { EtlError, isNetworkError } from './errors';

export function createS3(cfg: Pick<Config, 'S3_ENDPOINT' | 'S3_REGION' | 'S3_ACCESS_KEY_ID' | 'S3_SECRET_ACCESS_KEY'>): S3Client {
  return new S3Client({
    endpoint: cfg.S3_ENDPOINT,
    region: cfg.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: cfg.S3_ACCESS_KEY_ID, secretAccessKey: cfg.S3_SECRET_ACCESS_KEY },
    // S3-compatible servers (versitygw, MinIO) reject the CRC checksums newer SDKs send by default.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 4,
  });
}

export function classifyS3Error(err: unknown, endpoint: string): unknown {
  if (err instanceof EtlError) return err;
  if (isNetworkError(err)) {
    return new EtlError('S3_UNREACHABLE', `cannot reach S3 at ${endpoint} — start it with \`etl stack up\` or set S3_ENDPOINT`, {
      cause: err,
    });
  }
  if (
    err instanceof S3ServiceException &&
    (err.$metadata.httpStatusCode === 403 || err.name === 'InvalidAccessKeyId' || err.name === 'SignatureDoesNotMatch')
  ) {
    return new EtlError(
      'S3_ACCESS_DENIED',
      `S3 at ${endpoint} refused the credentials (${err.name}) — check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY`,
      { cause: err },
    );
  }
  return err;
}

export async function withS3Errors<T>(endpoint: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classifyS3Error(err, endpoint);
  }
}

/** Creates the bucket if it is missing. Buckets are private: no ACL or policy is ever set. */
export async function ensureBucket(s3: S3Client, bucket: string, endpoint: string): Promise<void> {
  await withS3Errors(endpoint, async () => {
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    } catch (err) {
      const status = (err as S3ServiceException).$metadata?.httpStatusCode;
      if (status !== 404 && (err as Error).name !== 'NotFound') throw err;
      await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((e: unknown) => {
        if ((e as Error).name !== 'BucketAlreadyOwnedByYou' && (e as Error).name !== 'BucketAlreadyExists') throw e;
      });
    }
  });
}
