// Duration and time flags out of the range their consumer accepts are usage errors naming the range
// (exit 2), found while parsing, before any server is asked: `--every 0s` used to reach the Temporal
// SDK and print a TypeError with its stack.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CommanderError, type Command } from 'commander';
import { boundedDuration, durationText } from '../../client/args';
import { buildProgram } from '../../client/program';
import { PROJECT_ROOT } from '../../lib/config';

/** Parses argv with the real command tree; returns what commander would print, or the parsed options. */
async function parse(argv: string[]): Promise<{ error?: string; options?: Record<string, unknown> }> {
  const program = buildProgram(() => undefined);
  let error = '';
  const quiet = (cmd: Command) => {
    cmd.configureOutput({ writeErr: (s) => (error += s), writeOut: () => undefined });
    cmd.commands.forEach(quiet);
  };
  quiet(program);
  let options: Record<string, unknown> | undefined;
  program.hook('preAction', (_root, action) => {
    options = action.opts();
    throw new Error('parsed, not run');
  });
  try {
    await program.parseAsync(['node', 'etl', ...argv]);
  } catch (err) {
    if (err instanceof CommanderError) return { error };
    if (options) return { options };
    throw err;
  }
  return { options };
}

describe('duration flags', () => {
  const cases: [string[], RegExp][] = [
    [
      ['schedule', 'create', 'pipeline', '--every', '0s'],
      /--every <duration>' argument '0s' is invalid\. expected a duration from 1s to 365d/,
    ],
    [['schedule', 'create', 'pipeline', '--every', '500ms'], /from 1s to 365d/],
    [['schedule', 'create', 'pipeline', '--every', '400d'], /from 1s to 365d/],
    [['schedule', 'update', 'pipeline-transactions', '--every', '0s'], /from 1s to 365d/],
    [
      ['schedule', 'create', 'pipeline', '--every', '5m', '--catchup-window', '5s'],
      /--catchup-window <duration>' argument '5s' is invalid\. expected a duration from 10s to 3650d/,
    ],
    [
      ['schedule', 'backfill', 'x', '--from', '2026-11-22', '--to', '2026-11-23', '--wait', '--timeout', '0s'],
      /--timeout <duration>.*from 1s/,
    ],
    [['stream', 'start', 'transactions', '--flush', '50ms'], /--flush <duration>.*from 100ms/],
    [['stream', 'stop', 'transactions', '--timeout', '0ms'], /--timeout <duration>.*from 1s/],
    [['produce', 'transactions', '--window', '0s'], /--window <duration>.*from 1ms/],
    [['schedule', 'create', 'pipeline', '--every', '99999999999999999999d'], /from 1s to 365d/],
    [['replay', '--from', '2026-11-22 00:00', '--to', '2026-11-23'], /--from <time>.*UTC unless it carries an offset/],
  ];
  for (const [argv, message] of cases) {
    it(`etl ${argv.join(' ')} is a usage error naming the range`, async () => {
      const r = await parse(argv);
      assert.match(r.error ?? `parsed: ${JSON.stringify(r.options)}`, message);
    });
  }

  it('accepts the bounds themselves', async () => {
    assert.deepEqual((await parse(['schedule', 'create', 'pipeline', '--every', '1s', '--catchup-window', '10s'])).options, {
      stream: 'transactions',
      every: 1_000,
      catchupWindow: 10_000,
    });
    assert.equal((await parse(['schedule', 'create', 'pipeline', '--every', '365d'])).options?.every, 365 * 86_400_000);
    assert.equal(boundedDuration({ min: 100 })('100ms'), 100);
    assert.deepEqual([90_000, 86_400_000, 1_500, 0].map(durationText), ['1m30s', '1d', '1s500ms', '0s']);
  });

  it('exits 2 from the real CLI, with the message and no stack trace', () => {
    const r = spawnSync(path.join(PROJECT_ROOT, 'bin', 'etl'), ['schedule', 'create', 'pipeline', '--every', '0s'], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /^error: option '--every <duration>' argument '0s' is invalid\. expected a duration from 1s to 365d such as 30s, 15m, 24h or 7d, got "0s"\n\(run with --help for usage\)\n$/,
    );
  });
});
