import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { configSchema, CREDENTIAL_URL_VARIABLES, FILE_VARIABLES, loadConfig, PROJECT_ROOT, SECRET_VARIABLES } from '../../lib/config';
import { EtlError } from '../../lib/errors';

const NO_DOTENV = '/nonexistent/.env';

describe('config', () => {
  it('parses the documented defaults from an empty environment', () => {
    const cfg = loadConfig({}, NO_DOTENV);
    assert.deepEqual(cfg.KAFKA_BROKERS, ['127.0.0.1:9092']);
    assert.equal(cfg.TEMPORAL_ADDRESS, '127.0.0.1:7233');
    assert.equal(cfg.ETL_STATE_DIR, path.join(PROJECT_ROOT, '.stack'));
    assert.equal(cfg.ARCHIVE_MAX_RECORDS_PER_OBJECT, 50_000);
  });

  it('lets the environment override values and splits broker lists', () => {
    const cfg = loadConfig({ KAFKA_BROKERS: 'a:1, b:2', PG_POOL_MAX: '3' }, NO_DOTENV);
    assert.deepEqual(cfg.KAFKA_BROKERS, ['a:1', 'b:2']);
    assert.equal(cfg.PG_POOL_MAX, 3);
  });

  it('names every bad variable and says where to fix it', () => {
    assert.throws(
      () => loadConfig({ KAFKA_BROKERS: 'no-port', PG_POOL_MAX: '-1', S3_BUCKET: 'Bad_Bucket' }, NO_DOTENV),
      (err: unknown) => {
        assert.ok(err instanceof EtlError);
        assert.equal(err.code, 'CONFIG_INVALID');
        for (const name of ['KAFKA_BROKERS', 'PG_POOL_MAX', 'S3_BUCKET']) assert.match(err.message, new RegExp(name));
        assert.match(err.message, /\.env\.example/);
        return true;
      },
    );
  });

  it('.env.example lists every variable with its default', () => {
    const example = readFileSync(path.join(PROJECT_ROOT, '.env.example'), 'utf8');
    const entries = new Map(
      example
        .split('\n')
        .filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const defaults = configSchema.parse({});
    for (const key of Object.keys(configSchema.shape)) {
      assert.ok(entries.has(key), `.env.example lacks ${key}`);
      const d = defaults[key as keyof typeof defaults];
      assert.equal(entries.get(key), Array.isArray(d) ? d.join(',') : String(d), `default of ${key}`);
    }
    assert.deepEqual(
      [...entries.keys()].filter((k) => !(k in configSchema.shape)),
      [],
      'unknown variables in .env.example',
    );
  });

  it('knows its secrets from the schema, so each is hidden, redacted in logs and readable from <NAME>_FILE', () => {
    for (const name of [
      'PG_PASSWORD',
      'PG_READER_PASSWORD',
      'S3_SECRET_ACCESS_KEY',
      'KAFKA_SASL_PASSWORD',
      'TEMPORAL_API_KEY',
      'FINNHUB_API_KEY',
      'CRYPTOCOMPARE_API_KEY',
      'OPENSEARCH_PASSWORD',
      'DASHBOARD_TOKEN',
    ]) {
      assert.ok(SECRET_VARIABLES.has(name), `${name} is marked secret`);
    }
    assert.ok(FILE_VARIABLES.includes('OPENSEARCH_PASSWORD') && FILE_VARIABLES.includes('OPENSEARCH_USERNAME'));
    assert.deepEqual([...CREDENTIAL_URL_VARIABLES].sort(), ['DATABASE_URL', 'OPENSEARCH_URL']);
  });

  it("refuses the read-only role's default password for a PostgreSQL that is not on loopback, naming the variable", () => {
    for (const host of ['db.internal', '10.0.0.5', '[2001:db8::1]']) {
      assert.throws(
        () => loadConfig({ DATABASE_URL: `postgres://etl:pw@${host}:5432/etl` }, NO_DOTENV),
        (err: unknown) => {
          assert.ok(err instanceof EtlError);
          assert.equal(err.code, 'CONFIG_INVALID');
          assert.match(err.message, /PG_READER_PASSWORD=\(unset\): the read-only role's default password is refused for PostgreSQL at /);
          assert.doesNotMatch(err.message, /etl_reader|:pw@/);
          return true;
        },
        host,
      );
    }
    for (const host of ['127.0.0.1', 'localhost', '127.0.0.2', '[::1]']) {
      assert.doesNotThrow(() => loadConfig({ DATABASE_URL: `postgres://etl:pw@${host}:5432/etl` }, NO_DOTENV), host);
    }
    assert.doesNotThrow(() => loadConfig({ DATABASE_URL: 'postgres://etl@/etl?host=/var/run/postgresql' }, NO_DOTENV), 'a Unix socket');
    assert.throws(
      () => loadConfig({ DATABASE_URL: 'postgres://etl:pw@db.internal/etl', PG_READER_PASSWORD: 'etl_reader' }, NO_DOTENV),
      /PG_READER_PASSWORD=\(hidden, 10 characters\): the read-only role's default password is refused/,
      'the default written out is the default',
    );
    const own = loadConfig({ DATABASE_URL: 'postgres://etl:pw@db.internal:5432/etl', PG_READER_PASSWORD: 'a-real-one' }, NO_DOTENV);
    assert.equal(own.PG_READER_PASSWORD, 'a-real-one');
  });

  it('refuses credentials in URLs whose clients do not send them, masking them in the message', () => {
    assert.throws(
      () =>
        loadConfig({ S3_ENDPOINT: 'http://key:topsecret@127.0.0.1:9000', FINNHUB_BASE_URL: 'https://u:pass123@proxy.example' }, NO_DOTENV),
      (err: unknown) => {
        assert.ok(err instanceof EtlError);
        assert.match(
          err.message,
          /S3_ENDPOINT="http:\/\/key:\*\*\*@127\.0\.0\.1:9000": .*set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY instead/,
        );
        assert.match(err.message, /FINNHUB_BASE_URL=.*set FINNHUB_API_KEY instead/);
        assert.doesNotMatch(err.message, /topsecret|pass123/);
        return true;
      },
    );
  });
});
