import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { configSchema, loadConfig, PROJECT_ROOT } from '../../lib/config';
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
});
