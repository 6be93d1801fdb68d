// The transform and the CLI's time flags give the same bytes whatever the machine's time zone: the
// same fixed records and flags are classified and parsed in child processes under other TZs, and
// their output is compared byte for byte with this process's (which runs in UTC).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../lib/config';

const PROBE = path.join(PROJECT_ROOT, 'test', 'support', 'tz-probe.ts');

function probe(tz: string): { stdout: string; offsetMinutes: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', PROBE], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, TZ: tz },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const offset = /local offset on 2026-01-01: (-?\d+) minutes/.exec(r.stderr);
  assert.ok(offset, r.stderr);
  return { stdout: r.stdout, offsetMinutes: Number(offset[1]) };
}

describe('time zones', () => {
  const utc = probe('UTC');
  const lines = utc.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('the reference output says what it should (so that comparing with it proves something)', () => {
    assert.equal(utc.offsetMinutes, 0);
    const quarantined = lines.filter((l) => l.code).map((l) => `${String(l.stream)}@${String(l.offset)} ${String(l.reason)}`);
    assert.equal(quarantined.length, 7, quarantined.join('\n'));
    assert.ok(quarantined.some((q) => /^transactions@4 .*has no UTC offset/.test(q)));
    assert.ok(quarantined.some((q) => /^ticks@6 .*has no UTC offset/.test(q)));
    const silver = lines.filter((l) => l.silver).map((l) => l.silver as Record<string, unknown>);
    assert.deepEqual(
      silver.filter((s) => s.session).map((s) => s.session),
      ['regular', 'regular', 'pre', 'post', 'closed', 'continuous'],
    );
    assert.deepEqual(
      silver.slice(0, 2).map((s) => [s.event_ts, s.event_date, s.event_hour, s.event_dayofweek]),
      [
        ['2026-03-08T04:30:00.000Z', '2026-03-08', 4, 'Sunday'],
        ['2026-03-08T00:00:00.000Z', '2026-03-08', 0, 'Sunday'],
      ],
    );
    // A flag without an offset is UTC; one with an offset keeps it.
    const flags = new Map(lines.filter((l) => 'flag' in l).map((l) => [l.flag, l.ms]));
    assert.equal(flags.get('2026-03-08T02:30:00'), Date.parse('2026-03-08T02:30:00Z'));
    assert.equal(flags.get('2026-03-08T02:30:00-05:00'), Date.parse('2026-03-08T07:30:00Z'));
    assert.deepEqual(
      lines.find((l) => 'wait' in l),
      { stream: 'transactions', wait: false, from: Date.parse('2026-03-08T01:00:00Z'), to: Date.parse('2026-03-08T03:00:00Z') },
    );
  });

  for (const tz of ['America/New_York', 'Asia/Kolkata', 'Pacific/Chatham', 'Australia/Lord_Howe']) {
    it(`gives the same bytes under TZ=${tz}`, () => {
      const other = probe(tz);
      assert.notEqual(other.offsetMinutes, 0, `${tz} is applied in the child`);
      assert.equal(other.stdout, utc.stdout);
    });
  }
});
