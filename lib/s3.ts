import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { CreateBucketCommand, HeadBucketCommand, S3Client, S3ServiceException, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { Config } from './config';
import { EtlError } from './errors';
import { isNetworkError, tlsFailure, type TlsFailure } from './network';
import { addressOf, probeTls } from './tls-probe';

export type S3ConnectionConfig = Pick<
  Config,
  'S3_ENDPOINT' | 'S3_REGION' | 'S3_CREDENTIALS' | 'S3_ACCESS_KEY_ID' | 'S3_SECRET_ACCESS_KEY' | 'S3_CA_FILE'
>;
export type S3Encryption = Pick<Config, 'S3_SSE' | 'S3_SSE_KMS_KEY_ID'>;

/**
 * An S3-compatible server at an endpoint URL: path-style addressing (bucket in the path, as versitygw
 * and MinIO expect) and the static keys. Amazon S3 (S3_ENDPOINT=aws): the SDK's regional endpoint,
 * virtual-hosted addressing, and the SDK's default credential chain (environment, profile, SSO,
 * container or instance role) unless S3_CREDENTIALS=static.
 */
export function s3ClientConfig(cfg: S3ConnectionConfig, maxAttempts = 4): S3ClientConfig {
  const aws = cfg.S3_ENDPOINT === 'aws';
  const staticKeys = cfg.S3_CREDENTIALS === 'static' || (cfg.S3_CREDENTIALS === 'auto' && !aws);
  return {
    region: cfg.S3_REGION,
    ...(aws ? {} : { endpoint: cfg.S3_ENDPOINT, forcePathStyle: true }),
    ...(staticKeys ? { credentials: { accessKeyId: cfg.S3_ACCESS_KEY_ID, secretAccessKey: cfg.S3_SECRET_ACCESS_KEY } } : {}),
    ...(cfg.S3_CA_FILE ? { requestHandler: { httpsAgent: new Agent({ keepAlive: true, ca: readFileSync(cfg.S3_CA_FILE) }) } } : {}),
    // S3-compatible servers (versitygw, MinIO) reject the CRC checksums newer SDKs send by default.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts,
  };
}

const WRITES = new Set(['PutObjectCommand', 'CreateMultipartUploadCommand']);

/**
 * Asks for S3_SSE on every object written through this client, whoever builds the command (the
 * archive's PutObject, or the first request of a multipart upload): one setting, no call site can miss it.
 */
export function applyServerSideEncryption(s3: S3Client, cfg: S3Encryption): void {
  if (cfg.S3_SSE === 'none') return;
  s3.middlewareStack.add(
    (next, context) => (args) => {
      if (WRITES.has(context.commandName ?? '')) {
        const input = args.input as { ServerSideEncryption?: string; SSEKMSKeyId?: string };
        input.ServerSideEncryption ??= cfg.S3_SSE;
        if (cfg.S3_SSE_KMS_KEY_ID) input.SSEKMSKeyId ??= cfg.S3_SSE_KMS_KEY_ID;
      }
      return next(args);
    },
    { step: 'initialize', name: 'etlServerSideEncryption' },
  );
}

export function createS3(cfg: S3ConnectionConfig & S3Encryption): S3Client {
  const s3 = new S3Client(s3ClientConfig(cfg));
  applyServerSideEncryption(s3, cfg);
  return s3;
}

const S3_TLS_FIX: Record<TlsFailure['kind'], string> = {
  untrusted: 'set S3_CA_FILE to the CA that signed the endpoint certificate (empty: the system CAs)',
  hostname: 'use a host name in S3_ENDPOINT that the certificate carries',
  expired: 'renew the expired certificate',
  'client-cert-missing': 'the endpoint wants a client certificate, which this client does not send',
  'client-cert-rejected': 'the endpoint refused the client certificate',
  'not-tls': 'the endpoint does not speak TLS: use http:// in S3_ENDPOINT, or its https port',
  'tls-required': 'the endpoint speaks https only: use https:// in S3_ENDPOINT (and S3_CA_FILE for a private CA)',
  other: 'check S3_ENDPOINT and S3_CA_FILE',
};

export function classifyS3Error(err: unknown, s3Endpoint: string): unknown {
  if (err instanceof EtlError) return err;
  const endpoint = s3Endpoint === 'aws' ? 'Amazon S3' : s3Endpoint;
  const tls = tlsFailure(err);
  if (tls) return new EtlError('S3_TLS_FAILED', `TLS to S3 at ${endpoint} failed: ${tls.reason} — ${S3_TLS_FIX[tls.kind]}`, { cause: err });
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
    const classified = classifyS3Error(err, endpoint);
    // A plain http:// request to an https-only endpoint is just reset: find out before calling it an outage.
    if ((classified as EtlError | undefined)?.code === 'S3_UNREACHABLE' && endpoint.startsWith('http://')) {
      const { host, port } = addressOf(endpoint, 80);
      const found = await probeTls(host, port, undefined);
      if (found) throw new EtlError('S3_TLS_FAILED', `S3 at ${endpoint}: ${found.reason} — ${S3_TLS_FIX[found.kind]}`, { cause: err });
    }
    throw classified;
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

/** AWS SDK errors that pass: the endpoint answered 5xx (after the SDK's own retries), throttled, or timed out. */
export function s3TransientError(err: unknown, endpoint: string): EtlError | undefined {
  const e = err as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  const status = e?.$metadata?.httpStatusCode;
  const throttled =
    typeof e?.name === 'string' &&
    /^(SlowDown|Throttling|ThrottlingException|RequestTimeout|TimeoutError|ServiceUnavailable|InternalError)$/.test(e.name);
  if ((typeof status === 'number' && status >= 500) || throttled) {
    return new EtlError(
      'S3_TRANSIENT',
      `S3 at ${endpoint}: ${String(e?.message)} (${String(e?.name)}${typeof status === 'number' ? `, HTTP ${status}` : ''}); retrying`,
      { cause: err },
    );
  }
  return undefined;
}
