// How the configuration becomes connection options for each service, without a server: secrets
// read from *_FILE, settings that need each other, Kafka SASL/TLS, PostgreSQL's sslmode, S3 on AWS
// or an endpoint with server-side encryption on every write, Temporal TLS as the CLI decides it.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CreateMultipartUploadCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { loadConfig, printableValue, type Config } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { kafkaConnection } from '../../lib/kafka';
import { connectionUrl, postgresTls } from '../../lib/postgres';
import { createS3, s3ClientConfig } from '../../lib/s3';
import { temporalConnection } from '../../lib/temporal';

const NO_DOTENV = '/nonexistent/.env';
const dir = mkdtempSync(path.join(tmpdir(), 'etl-connections-'));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
const pem = file('ca.pem', '-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n');

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env, NO_DOTENV);
  } catch (err) {
    assert.ok(err instanceof EtlError && err.code === 'CONFIG_INVALID');
    return err.message;
  }
  assert.fail('accepted');
}

describe('secrets and files in the configuration', () => {
  it('reads a secret from <NAME>_FILE, dropping one trailing newline', () => {
    const cfg = loadConfig(
      { KAFKA_SASL_PASSWORD_FILE: file('kafka-pw', 's3cr3t-kafka\n'), TEMPORAL_API_KEY_FILE: file('key', 'tk-1') },
      NO_DOTENV,
    );
    assert.equal(cfg.KAFKA_SASL_PASSWORD, 's3cr3t-kafka');
    assert.equal(cfg.TEMPORAL_API_KEY, 'tk-1');
  });

  it('refuses a secret set twice or a file it cannot read, without showing the value', () => {
    const message = configError({
      PG_PASSWORD: 'hunter2-pg',
      PG_PASSWORD_FILE: file('pg', 'x'),
      S3_SECRET_ACCESS_KEY_FILE: path.join(dir, 'missing'),
    });
    assert.match(message, /PG_PASSWORD_FILE=.*PG_PASSWORD is set too/);
    assert.match(message, /S3_SECRET_ACCESS_KEY_FILE=.*cannot read it \(ENOENT\)/);
    assert.doesNotMatch(message, /hunter2-pg/);
  });

  it('hides the new secrets by their length', () => {
    for (const name of ['KAFKA_SASL_PASSWORD', 'KAFKA_SASL_OAUTH_TOKEN', 'TEMPORAL_API_KEY', 'PG_PASSWORD']) {
      assert.equal(printableValue(name, 'abcdef'), '(hidden, 6 characters)');
    }
  });

  it('checks settings that need each other and files that must exist', () => {
    const message = configError({
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'etl',
      TEMPORAL_TLS_CLIENT_CERT_PATH: pem,
      PG_SSL_CA_FILE: path.join(dir, 'nope.pem'),
      S3_SSE_KMS_KEY_ID: 'alias/etl',
      KAFKA_TLS: 'maybe',
    });
    assert.match(message, /KAFKA_TLS="maybe": expected true or false/);
    const fixed = configError({
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'etl',
      TEMPORAL_TLS_CLIENT_CERT_PATH: pem,
      PG_SSL_CA_FILE: path.join(dir, 'nope.pem'),
      S3_SSE_KMS_KEY_ID: 'alias/etl',
    });
    assert.match(fixed, /KAFKA_SASL_MECHANISM="scram-sha-512": scram-sha-512 needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
    assert.match(
      fixed,
      /TEMPORAL_TLS_CLIENT_KEY_PATH=\(unset\): TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together/,
    );
    assert.match(fixed, /PG_SSL_CA_FILE=.*: no such file/);
    assert.match(fixed, /S3_SSE_KMS_KEY_ID="alias\/etl": needs S3_SSE=aws:kms/);
  });

  it('takes sslmode and sslrootcert from DATABASE_URL as libpq users write them, unless PG_SSLMODE says otherwise', () => {
    const url = `postgres://etl:pw@db.example.com:5432/etl?sslmode=verify-full&sslrootcert=${pem}`;
    const cfg = loadConfig({ DATABASE_URL: url, PG_READER_PASSWORD: 'not-the-default' }, NO_DOTENV);
    assert.equal(cfg.PG_SSLMODE, 'verify-full');
    assert.equal(cfg.PG_SSL_CA_FILE, pem);
    assert.equal(
      loadConfig({ DATABASE_URL: url, PG_READER_PASSWORD: 'not-the-default', PG_SSLMODE: 'require' }, NO_DOTENV).PG_SSLMODE,
      'require',
    );
    // pg would let the URL's parameters override `ssl`: they are dropped from what it gets.
    assert.equal(connectionUrl({ DATABASE_URL: url, PG_PASSWORD: '' }), 'postgres://etl:pw@db.example.com:5432/etl');
    assert.equal(connectionUrl({ DATABASE_URL: url, PG_PASSWORD: 'p@ss/word' }), 'postgres://etl:p%40ss%2Fword@db.example.com:5432/etl');
  });
});

describe('connection options', () => {
  const base = loadConfig({}, NO_DOTENV);

  it('Kafka: plain by default; TLS with a CA; each SASL mechanism', async () => {
    assert.deepEqual(Object.keys(kafkaConnection(base)).sort(), ['brokers', 'socketFactory']);
    const tls = kafkaConnection({ ...base, KAFKA_TLS: true, KAFKA_TLS_CA_FILE: pem });
    assert.ok(typeof tls.ssl === 'object' && Array.isArray(tls.ssl.ca));
    assert.equal(kafkaConnection({ ...base, KAFKA_TLS: true }).ssl, true, 'system CAs');
    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
      const { sasl } = kafkaConnection({ ...base, KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' });
      assert.deepEqual(sasl, { mechanism, username: 'u', password: 'p' });
    }
    const tokenFile = file('token', 'first\n');
    const { sasl } = kafkaConnection({ ...base, KAFKA_SASL_MECHANISM: 'oauthbearer', KAFKA_SASL_OAUTH_TOKEN_FILE: tokenFile });
    assert.ok(sasl && 'oauthBearerProvider' in sasl);
    const provider = sasl.oauthBearerProvider as () => Promise<{ value: string }>;
    assert.deepEqual(await provider(), { value: 'first' });
    writeFileSync(tokenFile, 'refreshed');
    assert.deepEqual(await provider(), { value: 'refreshed' }, 'read again at each authentication');
  });

  it("PostgreSQL: libpq's sslmode", () => {
    const tls = (mode: Config['PG_SSLMODE']) => postgresTls({ ...base, PG_SSLMODE: mode, PG_SSL_CA_FILE: pem });
    assert.equal(tls('disable'), false);
    assert.equal((tls('require') as { rejectUnauthorized: boolean }).rejectUnauthorized, false);
    const ca = tls('verify-ca') as { rejectUnauthorized: boolean; checkServerIdentity?: unknown; ca?: unknown };
    assert.equal(ca.rejectUnauthorized, true);
    assert.equal(typeof ca.checkServerIdentity, 'function', 'the host name is not checked');
    const full = tls('verify-full') as { rejectUnauthorized: boolean; checkServerIdentity?: unknown; ca?: unknown };
    assert.equal(full.rejectUnauthorized, true);
    assert.equal(full.checkServerIdentity, undefined, "Node's own host name check applies");
    assert.ok(full.ca);
  });

  it('S3: an endpoint is path-style with static keys; aws is virtual-hosted with the SDK credential chain', () => {
    const local = s3ClientConfig(base);
    assert.equal(local.endpoint, 'http://127.0.0.1:9000');
    assert.equal(local.forcePathStyle, true);
    assert.deepEqual(local.credentials, { accessKeyId: 'etl-local', secretAccessKey: 'etl-local-secret' });
    const aws = s3ClientConfig({ ...base, S3_ENDPOINT: 'aws', S3_REGION: 'eu-central-1' });
    assert.equal(aws.endpoint, undefined);
    assert.equal(aws.forcePathStyle, undefined);
    assert.equal(aws.credentials, undefined, "the SDK's default chain (env, profile, container or instance role)");
    assert.ok(s3ClientConfig({ ...base, S3_ENDPOINT: 'aws', S3_CREDENTIALS: 'static' }).credentials, 'static keys on AWS when asked');
  });

  it('S3: server-side encryption on every PutObject and CreateMultipartUpload, whoever builds them', async () => {
    const s3 = createS3({ ...base, S3_SSE: 'aws:kms', S3_SSE_KMS_KEY_ID: 'alias/etl-lake' });
    const sent: Record<string, string | undefined>[] = [];
    // Stop each request once it is built: its headers are what S3 would get.
    s3.middlewareStack.add(
      () => (args) => {
        const headers = (args.request as { headers: Record<string, string> }).headers;
        sent.push({
          sse: headers['x-amz-server-side-encryption'],
          key: headers['x-amz-server-side-encryption-aws-kms-key-id'],
        });
        throw new Error('captured');
      },
      { step: 'finalizeRequest', name: 'capture', priority: 'high' },
    );
    for (const command of [
      new PutObjectCommand({ Bucket: 'etl-lake', Key: 'bronze/a', Body: 'x' }),
      new CreateMultipartUploadCommand({ Bucket: 'etl-lake', Key: 'silver/b' }),
    ]) {
      await assert.rejects(s3.send(command as PutObjectCommand), /captured/);
    }
    assert.deepEqual(sent, [
      { sse: 'aws:kms', key: 'alias/etl-lake' },
      { sse: 'aws:kms', key: 'alias/etl-lake' },
    ]);
    s3.destroy();
  });

  it('Temporal: TLS when a certificate, a CA or an API key is set, as the Temporal CLI decides', () => {
    assert.equal(temporalConnection(base).tls, undefined);
    assert.ok(temporalConnection({ ...base, TEMPORAL_API_KEY: 'k' }).tls, 'an API key implies TLS');
    assert.equal(temporalConnection({ ...base, TEMPORAL_API_KEY: 'k' }).apiKey, 'k');
    assert.equal(temporalConnection({ ...base, TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }).tls, undefined, 'unless TLS is turned off');
    const mtls = temporalConnection({
      ...base,
      TEMPORAL_TLS_CLIENT_CERT_PATH: pem,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pem,
      TEMPORAL_TLS_SERVER_NAME: 'ns.acct.tmprl.cloud',
    }).tls;
    assert.ok(mtls && mtls.clientCertPair && mtls.serverNameOverride === 'ns.acct.tmprl.cloud');
  });
});
