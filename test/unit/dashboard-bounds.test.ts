// What the outside can ask of the dashboard, without a server: who must log in, the search
// syntax's allow-list, and CSV cells a spreadsheet would run as formulas. The same bounds over
// HTTP against the real server: test/integration/dashboard-bounds.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { dashboardAuth, isLoopback, sameSecret } from '../../dashboard/auth';
import { neutralized } from '../../dashboard/csv';
import { boundedQuery, QueryRefused } from '../../dashboard/search-query';
import { loadConfig, printableValue } from '../../lib/config';
import { EtlError } from '../../lib/errors';

const NO_DOTENV = '/nonexistent/.env';
const FIELDS = ['merchant', 'category', 'amount', 'event_ts', 'status'];

describe('dashboard login', () => {
  const open = { DASHBOARD_TOKEN: '', DASHBOARD_USER: 'etl' };

  it('is open on loopback without a token, and refused elsewhere with one line saying how', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '::ffff:127.0.0.1']) {
      assert.ok(isLoopback(host), host);
      assert.equal(dashboardAuth(open, host), undefined);
    }
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'dashboard.internal']) {
      assert.throws(
        () => dashboardAuth(open, host),
        (err: unknown) =>
          err instanceof EtlError &&
          err.code === 'USAGE' &&
          !err.message.includes('\n') &&
          err.message.includes(host) &&
          /DASHBOARD_TOKEN_FILE/.test(err.message),
      );
    }
  });

  it('asks for the token wherever it listens once the token is set', () => {
    const token = 'a'.repeat(32);
    for (const host of ['127.0.0.1', '0.0.0.0']) {
      assert.deepEqual(dashboardAuth({ DASHBOARD_TOKEN: token, DASHBOARD_USER: 'ops' }, host), { user: 'ops', token });
    }
  });

  it('compares secrets whatever their lengths', () => {
    assert.ok(sameSecret('correct horse battery', 'correct horse battery'));
    assert.ok(!sameSecret('correct horse batterx', 'correct horse battery'));
    assert.ok(!sameSecret('', 'correct horse battery'));
    assert.ok(!sameSecret('correct horse battery staple', 'correct horse battery'));
  });

  it('reads the token from DASHBOARD_TOKEN_FILE, hides it, and refuses a short one', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dash-token-'));
    const file = path.join(dir, 'token');
    writeFileSync(file, '0123456789abcdef0123456789abcdef\n');
    assert.equal(loadConfig({ DASHBOARD_TOKEN_FILE: file }, NO_DOTENV).DASHBOARD_TOKEN, '0123456789abcdef0123456789abcdef');
    assert.equal(printableValue('DASHBOARD_TOKEN', 'whatever-it-is'), '(hidden, 14 characters)');
    writeFileSync(file, 'short-secret');
    assert.throws(
      () => loadConfig({ DASHBOARD_TOKEN_FILE: file }, NO_DOTENV),
      (err: unknown) =>
        err instanceof EtlError &&
        /DASHBOARD_TOKEN=\(hidden, 12 characters\): at least 16 characters/.test(err.message) &&
        !err.message.includes('short-secret'),
    );
  });
});

describe('search query allow-list', () => {
  it('passes words, phrases, fields, boolean operators, groups, ranges and prefixes', () => {
    for (const q of [
      'travel',
      'category:travel AND amount:[100 TO *]',
      'merchant:"Café \\"Le Coin\\""',
      'status:DECLINED OR (category:health && !city)',
      'merchant:Carr* -category:travel +status:APPROVED',
      'amount:>=250.5',
      'amount:{1 TO 5]',
      'NOT status:PENDING',
      'merchant:H&M',
      'a\\*b',
    ]) {
      assert.equal(typeof boundedQuery(q, FIELDS), 'string', q);
    }
    assert.equal(boundedQuery('category:travel AND amount:[100 TO *]', FIELDS), 'category:travel AND amount:[100 TO *]');
  });

  it('refuses regular expressions, leading or inner wildcards, fuzziness, boosts and unknown fields', () => {
    const refused: [string, RegExp][] = [
      ['/ab.*c/', /regular expressions are not supported/],
      ['merchant:/.*/', /regular expressions/],
      ['foo/bar/', /regular expressions/],
      ['*arrefour', /leading wildcard/],
      ['merchant:*x', /leading wildcard/],
      ['*', /leading wildcard/],
      ['ca*ur', /only a trailing \*/],
      ['car?efour', /\? wildcards/],
      ['amount:[1* TO 5]', /only a trailing \*/],
      ['carrefour~2', /fuzzy and proximity/],
      ['"a b"~3', /fuzzy and proximity/],
      ['travel^4', /boosts/],
      ['_exists_:merchant', /unknown field "_exists_"; fields: merchant, category/],
      ['merch*:x', /unknown field/],
      ['secret_field:(a OR b)', /unknown field "secret_field"/],
      ['(travel', /does not parse at character/],
      ['"unterminated', /does not parse/],
      ['AND', /an operator without anything to search/],
    ];
    for (const [q, message] of refused) {
      assert.throws(
        () => boundedQuery(q, FIELDS),
        (err: unknown) => err instanceof QueryRefused && message.test(err.message),
        q,
      );
    }
  });
});

describe('CSV cells against formula injection', () => {
  it('prefixes text cells that a spreadsheet would run, as OWASP advises', () => {
    for (const v of ['=1+1', '+SUM(A1)', '-2+3+cmd|/C calc!A0', '@SUM(1,1)', '\tx', '\rx', '=HYPERLINK("http://x","y")']) {
      assert.equal(neutralized('merchant', v), `'${v}`, JSON.stringify(v));
    }
    for (const v of ['Carrefour', 'a=b', "McDonald's", '', '1-2']) assert.equal(neutralized('merchant', v), v);
    assert.equal(neutralized('merchant', null), null);
  });

  it('keeps numbers in numeric columns numbers, a minus sign included', () => {
    assert.equal(neutralized('amount', '-12.50'), '-12.50');
    assert.equal(neutralized('user_id', '-1'), '-1');
    assert.equal(neutralized('event_hour', '7'), '7');
    assert.equal(neutralized('status', '-1'), "'-1", 'a text column holding "-1" is text');
  });
});
