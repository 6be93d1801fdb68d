// What a person reads when something is wrong: a configuration error names the variable and what
// was expected but never shows a secret; a connection failure that reached the CLI's top level
// unclassified still names its server by the port it tried.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { unreachableServer } from '../../client/output';
import { loadConfig, maskUrlCredentials, PROJECT_ROOT } from '../../lib/config';
import { EtlError } from '../../lib/errors';

const NO_DOTENV = '/nonexistent/.env';

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env, NO_DOTENV);
  } catch (err) {
    assert.ok(err instanceof EtlError);
    assert.equal(err.code, 'CONFIG_INVALID');
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

describe('configuration errors', () => {
  it('name a secret variable and what was expected, without its value', () => {
    const message = configError({ S3_SECRET_ACCESS_KEY: 'Sh0rt!', MARKET_POLL_EVERY: 'yahoo=0s' });
    assert.match(message, /S3_SECRET_ACCESS_KEY=\(hidden, 6 characters\): .*>=8 characters/);
    assert.doesNotMatch(message, /Sh0rt!/);
    assert.match(message, /MARKET_POLL_EVERY="yahoo=0s": expected source=value pairs/);
  });

  it('mask the password inside a URL, even one that does not parse', () => {
    const message = configError({ DATABASE_URL: 'mysql://etl:pa55-w0rd@db.internal:3306/etl', S3_ENDPOINT: 'http://AKIA:s3cr3t@:9000' });
    assert.match(message, /DATABASE_URL="mysql:\/\/etl:\*\*\*@db\.internal:3306\/etl": expected postgres:\/\//);
    assert.match(message, /S3_ENDPOINT="http:\/\/AKIA:\*\*\*@:9000"/);
    assert.doesNotMatch(message, /pa55-w0rd|s3cr3t/);
    assert.equal(maskUrlCredentials('postgres://u@h/db and postgres://u:p@h/db'), 'postgres://u@h/db and postgres://u:***@h/db');
    assert.equal(maskUrlCredentials('postgresql:/etl:pw@h/db etl:pw@h:5432/db'), 'postgresql:/etl:***@h/db etl:***@h:5432/db');
  });

  it('reach the terminal masked, as one line per variable and exit 1', () => {
    const r = spawnSync(path.join(PROJECT_ROOT, 'bin', 'etl'), ['status'], {
      env: { ...process.env, S3_SECRET_ACCESS_KEY: 'Sh0rt!', DATABASE_URL: 'postgresql:/etl:pa55-w0rd@localhost/etl' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^error \[CONFIG_INVALID\]: invalid configuration:\n {2}S3_SECRET_ACCESS_KEY=\(hidden, 6 characters\)/);
    assert.match(r.stderr, /DATABASE_URL="postgresql:\/etl:\*\*\*@localhost\/etl"/);
    assert.doesNotMatch(r.stderr, /Sh0rt!|pa55-w0rd/);
  });
});

describe('an unclassified connection failure', () => {
  const config = loadConfig(
    {
      DATABASE_URL: 'postgres://etl:secret@db.example:6543/etl',
      PG_READER_PASSWORD: 'not-the-default',
      KAFKA_BROKERS: 'k1:9092,k2:9192',
      S3_ENDPOINT: 'http://s3.example:9900',
    },
    NO_DOTENV,
  );
  const refused = (port: number) =>
    Object.assign(new Error(`connect ECONNREFUSED 10.0.0.1:${port}`), { code: 'ECONNREFUSED', address: '10.0.0.1', port });

  it('is named by the server whose port it tried', () => {
    assert.deepEqual(
      [6543, 9192, 9900].map((p) => unreachableServer(refused(p), config)?.code),
      ['POSTGRES_UNREACHABLE', 'KAFKA_UNREACHABLE', 'S3_UNREACHABLE'],
    );
    assert.equal(
      unreachableServer(refused(6543), config)?.message,
      'cannot reach PostgreSQL at db.example:6543/etl — start it with `etl stack up` or set DATABASE_URL',
    );
    assert.doesNotMatch(unreachableServer(refused(6543), config)!.message, /secret/, 'postgresAddress drops the credentials');
  });

  it('stays a bug (with its stack) when it is no network failure or no known port', () => {
    assert.equal(unreachableServer(refused(1234), config), undefined);
    assert.equal(unreachableServer(new TypeError('x is not a function'), config), undefined);
  });
});
