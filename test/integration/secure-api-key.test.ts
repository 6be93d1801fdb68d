// Temporal Cloud's API keys: the client, the worker and the CLI send TEMPORAL_API_KEY the way the
// SDK does (gRPC metadata `authorization: Bearer <key>`, over TLS), and a key the server refuses is
// TEMPORAL_AUTH_FAILED: one permanent line, without the key. The dev server checks no keys, so a
// TLS gRPC endpoint on loopback stands in for Temporal Cloud's frontend: it records the metadata of
// every call and answers UNAUTHENTICATED, as the cloud does for a wrong key.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { PROJECT_ROOT, type Config } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { connectClient, connectWorkerConnection } from '../../lib/temporal';
import { configEnv } from '../support/isolation';
import { secureStackForTests } from '../support/secure';

const KEY = 'tk_test-0123456789abcdef';

describe('Temporal API keys', () => {
  let server: http2.Http2SecureServer;
  const calls: { path: string; authorization?: string; namespace?: string }[] = [];
  let cfg: Config;

  before(async () => {
    const { config, stack } = await secureStackForTests();
    server = http2.createSecureServer({ cert: readFileSync(stack.certs.serverCert), key: readFileSync(stack.certs.serverKey) });
    server.on('stream', (stream, headers) => {
      calls.push({
        path: String(headers[':path']),
        authorization: headers.authorization as string | undefined,
        namespace: headers['temporal-namespace'] as string | undefined,
      });
      stream.on('error', () => undefined);
      // A trailers-only gRPC answer: status 16, UNAUTHENTICATED.
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'Request unauthorized.' },
        { endStream: true },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cfg = {
      ...config,
      TEMPORAL_ADDRESS: `127.0.0.1:${(server.address() as AddressInfo).port}`,
      TEMPORAL_NAMESPACE: 'etl-prod.a1b2c',
      TEMPORAL_API_KEY: KEY,
      TEMPORAL_TLS: 'auto', // an API key alone turns TLS on
      TEMPORAL_TLS_CLIENT_CERT_PATH: '',
      TEMPORAL_TLS_CLIENT_KEY_PATH: '',
    };
  });

  after(() => new Promise<void>((r) => server.close(() => r())));

  const refused = (err: unknown) => {
    assert.ok(err instanceof EtlError, String(err));
    assert.equal(err.code, 'TEMPORAL_AUTH_FAILED', err.message);
    assert.equal(err.retryable, false);
    assert.doesNotMatch(err.message, /\n/);
    assert.ok(err.message.includes(cfg.TEMPORAL_ADDRESS));
    assert.match(err.message, /TEMPORAL_API_KEY/);
    assert.ok(!err.message.includes(KEY), 'the key is not in the message');
    return true;
  };

  it('the client sends it as a Bearer token over TLS', async () => {
    calls.length = 0;
    await assert.rejects(connectClient(cfg), refused);
    assert.ok(calls.length > 0, 'the client called');
    assert.ok(
      calls.every((c) => c.authorization === `Bearer ${KEY}`),
      JSON.stringify(calls),
    );
  });

  it('the worker sends it as a Bearer token over TLS', async () => {
    calls.length = 0;
    await assert.rejects(connectWorkerConnection({ ...cfg, METRICS_PORT: 0 }), refused);
    assert.ok(calls.length > 0, 'the worker called');
    assert.ok(
      calls.every((c) => c.authorization === `Bearer ${KEY}`),
      JSON.stringify(calls),
    );
  });

  it('the CLI reads it from TEMPORAL_API_KEY_FILE and prints one line without it', async () => {
    calls.length = 0;
    const { stack } = await secureStackForTests();
    const env = configEnv(cfg);
    delete env.TEMPORAL_API_KEY;
    const keyFile = path.join(stack.root, 'secrets', 'test-temporal-api-key');
    writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
    // Not spawnSync: this process must go on answering as the server while the CLI runs.
    const r = await promisify(execFile)(path.join(PROJECT_ROOT, 'bin', 'etl'), ['schedule', 'list'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, TEMPORAL_API_KEY_FILE: keyFile },
      encoding: 'utf8',
      timeout: 60_000,
    }).then(
      () => assert.fail('etl schedule list succeeded'),
      (err: { code?: number; stdout: string; stderr: string }) => err,
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error \[TEMPORAL_AUTH_FAILED\]: [^\n]+\n$/m);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.ok(!r.stderr.includes(KEY) && !r.stdout.includes(KEY));
    assert.ok(calls.some((c) => c.authorization === `Bearer ${KEY}`));
  });
});
