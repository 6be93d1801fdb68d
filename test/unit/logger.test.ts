// Where JSON logs go: stderr by default; a file for every logger created after logToFile (the demo).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../lib/config';

const LOGGER = path.join(PROJECT_ROOT, 'lib', 'logger.ts');

/** Runs `body` (CommonJS, with lib/logger as `logger`) in a child through tsx; returns its stdio. */
function child(body: string): { stdout: string; stderr: string } {
  const code = `const logger = require(${JSON.stringify(LOGGER)});\n${body}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { stdout: r.stdout, stderr: r.stderr };
}

describe('logger', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'etl-logger-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('writes JSON lines to stderr by default', () => {
    const { stdout, stderr } = child(`logger.createLogger({ LOG_LEVEL: 'info' }).info({ n: 1 }, 'hello');`);
    assert.equal(stdout, '');
    assert.equal((JSON.parse(stderr.trim()) as { msg: string }).msg, 'hello');
  });

  it('after logToFile, appends to the file (creating its folder) and leaves stderr alone', () => {
    const file = path.join(tmp, 'logs', 'demo-worker.log');
    const { stderr } = child(
      `logger.logToFile(${JSON.stringify(file)}); logger.createLogger({ LOG_LEVEL: 'info' }).info('one'); logger.createLogger({ LOG_LEVEL: 'info' }, { component: 'x' }).warn('two');`,
    );
    assert.equal(stderr, '');
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['one', 'two'],
    );
  });

  it('redacts every setting the configuration marks secret and masks the password of URL settings, at the top level and one down', () => {
    const config = {
      PG_READER_PASSWORD: 'reader-pw-1',
      FINNHUB_API_KEY: 'finnhub-key-2',
      CRYPTOCOMPARE_API_KEY: 'cc-key-3',
      OPENSEARCH_PASSWORD: 'os-pw-4',
      S3_SECRET_ACCESS_KEY: 's3-secret-5',
      DATABASE_URL: 'postgres://etl:db-pw-6@db.internal:5432/etl',
      OPENSEARCH_URL: 'https://admin:os-url-pw-7@search.example:9200',
      PG_SCHEMA: 'etl',
    };
    const { stderr } = child(
      `const config = ${JSON.stringify(config)}; const log = logger.createLogger({ LOG_LEVEL: 'info' }); log.info({ config }, 'nested'); log.info(config, 'top');`,
    );
    for (const secret of ['reader-pw-1', 'finnhub-key-2', 'cc-key-3', 'os-pw-4', 's3-secret-5', 'db-pw-6', 'os-url-pw-7']) {
      assert.doesNotMatch(stderr, new RegExp(secret), `${secret} is not logged`);
    }
    const [nested, top] = stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown> & { config: Record<string, unknown> });
    for (const logged of [nested!.config, top!]) {
      assert.equal(logged.PG_READER_PASSWORD, '[redacted]');
      assert.equal(logged.FINNHUB_API_KEY, '[redacted]');
      assert.equal(logged.DATABASE_URL, 'postgres://etl:***@db.internal:5432/etl', 'where the database is stays readable');
      assert.equal(logged.OPENSEARCH_URL, 'https://admin:***@search.example:9200');
      assert.equal(logged.PG_SCHEMA, 'etl');
    }
  });
});
