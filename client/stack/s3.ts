// S3 via versitygw's posix backend: one Go binary built from the Go module proxy alone, so no
// release-download site has to be reachable. Buckets are directories under data/s3; the app
// creates its own bucket, so none is made here.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { formatHostPort, urlHostPort } from './paths';
import { commandExists, runInstallStep } from './process';
import { isInstalled, markInstalled, type StackContext, type StackService } from './service';

const VERSITYGW_VERSION = 'v1.7.0';

const binary = (cfg: Config) => path.join(cfg.ETL_STATE_DIR, 'bin', 'versitygw');
const address = (cfg: Config) => urlHostPort(cfg.S3_ENDPOINT, cfg.S3_ENDPOINT.startsWith('https:') ? 443 : 80);

async function install({ cfg, paths, log }: StackContext): Promise<void> {
  const stamp = `${binary(cfg)}.version`;
  if (isInstalled(stamp, VERSITYGW_VERSION)) return;
  // Not apt's golang-go: Debian 12 ships Go 1.19, too old to build versitygw or fetch a newer toolchain.
  if (!commandExists('go')) {
    throw new EtlError(
      'STACK_INSTALL_FAILED',
      'the S3 server (versitygw) is built from source and needs Go 1.21 or newer: install it from https://go.dev/dl/ and run again',
    );
  }
  log(`s3: building versitygw ${VERSITYGW_VERSION} with \`go install\` (first run only, ~2 min)…`);
  const cache = paths.cache;
  await runInstallStep(
    {
      command: 'go',
      args: ['install', `github.com/versity/versitygw/cmd/versitygw@${VERSITYGW_VERSION}`],
      env: {
        ...process.env,
        GOBIN: paths.bin,
        GOMODCACHE: path.join(cache, 'go-mod'),
        GOCACHE: path.join(cache, 'go-build'),
        GOFLAGS: '-modcacherw', // a read-only module cache would make `rm -rf .stack` fail for non-root users
      },
    },
    paths.installLog('s3'),
  );
  markInstalled(stamp, VERSITYGW_VERSION);
}

async function prepare({ cfg, paths, secure }: StackContext) {
  mkdirSync(paths.data('s3'), { recursive: true });
  // The secured stack's S3 speaks HTTPS only, with a certificate from the stack's CA.
  const tls = secure ? ['--cert', secure.certs.serverCert, '--key', secure.certs.serverKey] : [];
  return {
    command: binary(cfg),
    args: ['--region', cfg.S3_REGION, '--port', formatHostPort(address(cfg)), ...tls, '--quiet', 'posix', paths.data('s3')],
    // The same as --access/--secret, but kept out of `ps` and the command line logged at start.
    env: { ...process.env, ROOT_ACCESS_KEY_ID: cfg.S3_ACCESS_KEY_ID, ROOT_SECRET_ACCESS_KEY: cfg.S3_SECRET_ACCESS_KEY },
    cwd: paths.data('s3'),
  };
}

/** A signed ListBuckets: proves the server speaks S3 and accepts our credentials. */
async function health(cfg: Config, timeoutMs: number): Promise<void> {
  const { S3Client, ListBucketsCommand } = await import('@aws-sdk/client-s3');
  const { s3ClientConfig } = await import('../../lib/s3');
  const base = s3ClientConfig(cfg, 1);
  const handler = (base.requestHandler ?? {}) as Record<string, unknown>;
  const client = new S3Client({ ...base, requestHandler: { ...handler, connectionTimeout: timeoutMs, requestTimeout: timeoutMs } });
  try {
    await client.send(new ListBucketsCommand({}));
  } catch (err) {
    // Credentials scoped to one bucket may not list buckets; the server still answered as S3.
    if ((err as { name?: string }).name !== 'AccessDenied') throw err;
  } finally {
    client.destroy();
  }
}

export const s3Service: StackService = {
  name: 's3',
  address,
  ports: (cfg) => [address(cfg)],
  processMarker: 'versitygw',
  startTimeoutMs: 30_000,
  stopSignal: 'SIGTERM',
  stopTimeoutMs: 10_000,
  install,
  prepare,
  health,
};
