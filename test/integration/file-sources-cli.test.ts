// `etl ingest files` as a user runs it (a child process; this one runs the worker): the --json
// summary's counts, a relative path resolved where the command runs, the text summary naming a
// changed file's new version, and bad input refused with usage and exit 2.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { FilesSummary } from '../../client/commands/ingest-files';
import { PROJECT_ROOT } from '../../lib/config';
import { syntheticTransaction } from '../../streams/transactions/generator';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';
import { configEnv } from '../support/isolation';

const gen = { seed: 163, startMs: Date.parse('2026-11-20T00:00:00Z'), windowMs: 86_400_000 };
const line = (i: number) => JSON.stringify(syntheticTransaction(i, gen));

describe('etl ingest files', () => {
  let env: TestEnv;
  let dir: string;
  const etl = (args: string[], cwd = PROJECT_ROOT) =>
    promisify(execFile)(path.join(PROJECT_ROOT, 'bin', 'etl'), args, {
      encoding: 'utf8',
      cwd,
      env: { ...process.env, ...configEnv(env.config) },
    });

  before(async () => {
    env = await isolatedEnv('files_cli');
    dir = await mkdtemp(path.join(tmpdir(), 'etl-files-cli-'));
    await writeFile(path.join(dir, 'a.jsonl'), `${line(0)}\n${line(1)}\nnot json\n`);
    await writeFile(path.join(dir, 'b.jsonl.gz'), gzipSync(`${line(2)}\n`));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await env?.cleanup();
  });

  it('loads a folder given relative to where it runs, and says what it did', { timeout: 180_000 }, async () => {
    await withWorker(env, async () => {
      const { stdout } = await etl(['ingest', 'files', 'transactions', '.', '--json'], dir);
      const s = JSON.parse(stdout) as FilesSummary;
      assert.deepEqual(s.files, {
        seen: 2,
        new: 2,
        changed: 0,
        skippedAlreadyLoaded: 0,
        resumed: 0,
        unsupported: 0,
        unreadable: 0,
        failed: 0,
      });
      assert.deepEqual([s.records, s.loaded, s.duplicates, s.quarantined, s.qualityPassed], [4, 3, 0, 1, true]);
      assert.deepEqual(
        s.versions.map((v) => [path.basename(v.location), v.version, v.status, v.records]),
        [
          ['a.jsonl', 1, 'read', 3],
          ['b.jsonl.gz', 1, 'read', 1],
        ],
      );

      await writeFile(path.join(dir, 'a.jsonl'), `${line(0)}\n${line(1)}\n${line(3)}\n`);
      const text = await etl(['ingest', 'files', 'transactions', dir]);
      assert.match(text.stdout, /files: 2 seen, 1 new \(1 changed since loaded: new versions\), 1 skipped as already loaded/);
      assert.match(text.stdout, /records: 3 read into 1 bronze objects; 1 loaded, 2 duplicates, 0 quarantined/);
      assert.match(text.stdout, /a\.jsonl\s+2 \(changed\)\s+jsonl\s+read\s+3/);
    });
  });

  it('refuses a missing path and a file of unknown format with usage and exit 2', async () => {
    for (const [args, message] of [
      [['ingest', 'files', 'transactions', path.join(dir, 'nope')], /no file or folder at/],
      [['ingest', 'files', 'transactions', path.join(PROJECT_ROOT, 'README.md')], /cannot tell the format of README\.md/],
      [['ingest', 'files', 'nostream', dir], /invalid/],
    ] as const) {
      await assert.rejects(etl([...args]), (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2, err.stderr);
        assert.match(err.stderr, message);
        assert.doesNotMatch(err.stderr, /\n\s+at /, 'no stack trace');
        return true;
      });
    }
  });

  it(
    'reports a file it cannot read (truncated gzip) with the line it stopped after, loads the rest, exits 1',
    { timeout: 180_000 },
    async () => {
      const other = await mkdtemp(path.join(tmpdir(), 'etl-files-cli-bad-'));
      try {
        await writeFile(path.join(other, 'good.jsonl'), `${line(100)}\n`);
        const whole = gzipSync(Array.from({ length: 2_000 }, (_, i) => line(200 + i)).join('\n') + '\n');
        await writeFile(path.join(other, 'cut.jsonl.gz'), whole.subarray(0, Math.floor(whole.length / 2)));
        await withWorker(env, async () => {
          await assert.rejects(
            etl(['ingest', 'files', 'transactions', other, '--json']),
            (err: { code: number; stdout: string; stderr: string }) => {
              assert.equal(err.code, 1, err.stderr);
              const s = JSON.parse(err.stdout) as FilesSummary;
              assert.equal(s.files.failed, 1);
              const cut = s.versions.find((v) => v.location.endsWith('cut.jsonl.gz'))!;
              assert.equal(cut.status, 'failed');
              assert.match(cut.error ?? '', /^FILE_UNREADABLE: .*cut\.jsonl\.gz is not valid gzip.*\(after line \d+\)$/);
              assert.ok(cut.records! > 0 && cut.records! < 2_000, `the lines before the cut are loaded (${cut.records})`);
              assert.equal(s.versions.find((v) => v.location.endsWith('good.jsonl'))!.status, 'read');
              assert.equal(s.loaded, 1 + cut.records!);
              assert.match(err.stderr, /error \[FILE_UNREADABLE\]/);
              return true;
            },
          );
        });
      } finally {
        await rm(other, { recursive: true, force: true });
      }
    },
  );
});
