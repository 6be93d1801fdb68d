// FILE_SOURCE_ROOTS through the real CLI: a path outside the roots is refused with one line and
// exit 2 before anything starts; a symbolic link inside a root that points outside is refused as a
// path given (by the CLI) and from a folder or a glob (by the worker's discovery, which fails the
// run before registering or reading any file); either way the CLI says it in one line, exit 2.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../lib/config';
import { syntheticTransaction } from '../../streams/transactions/generator';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';
import { configEnv } from '../support/isolation';

const gen = { seed: 29, startMs: Date.parse('2026-11-20T00:00:00Z'), windowMs: 86_400_000 };
const OUTSIDE_LINE =
  /^error \[FILE_OUTSIDE_ROOTS\]: .* is outside FILE_SOURCE_ROOTS \(.*\): file sources read only under those; add a root to FILE_SOURCE_ROOTS or move the files under one\n$/;

describe('file sources read only under FILE_SOURCE_ROOTS', () => {
  let env: TestEnv;
  let top: string;
  let root: string;
  let outside: string;
  const etl = (args: string[]) =>
    promisify(execFile)(path.join(PROJECT_ROOT, 'bin', 'etl'), args, {
      encoding: 'utf8',
      env: { ...process.env, ...configEnv(env.config) },
    });
  const refusedWith = (code: number, pattern: RegExp) => (err: { code: number; stdout: string; stderr: string }) => {
    assert.equal(err.code, code, err.stderr);
    // bin/etl says so when it rebuilds dist/ first; what the command itself says follows.
    assert.match(err.stderr.replace(/^build: .*\n/gm, ''), pattern);
    assert.doesNotMatch(err.stderr, /\n\s+at /, 'no stack trace');
    return true;
  };

  before(async () => {
    top = await realpath(await mkdtemp(path.join(tmpdir(), 'etl-files-roots-')));
    root = path.join(top, 'landing');
    outside = path.join(top, 'elsewhere');
    await mkdir(path.join(root, 'in'), { recursive: true });
    await mkdir(outside);
    await writeFile(path.join(root, 'in', 'good.jsonl'), `${JSON.stringify(syntheticTransaction(0, gen))}\n`);
    await writeFile(path.join(outside, 'private.jsonl'), `${JSON.stringify(syntheticTransaction(1, gen))}\n`);
    await symlink(path.join(outside, 'private.jsonl'), path.join(root, 'in', 'link.jsonl'));
    // The refused discovery is expected: the worker's warning about it would only be noise here.
    env = await isolatedEnv('files_roots', { FILE_SOURCE_ROOTS: [root], LOG_LEVEL: 'error' });
  });
  after(async () => {
    await rm(top, { recursive: true, force: true });
    await env?.cleanup();
  });

  it('refuses a folder outside the roots with one line and exit 2, starting nothing', async () => {
    await assert.rejects(etl(['ingest', 'files', 'transactions', '/etc/']), refusedWith(2, OUTSIDE_LINE));
    await assert.rejects(etl(['ingest', 'files', 'transactions', `${outside}/*.jsonl`]), refusedWith(2, OUTSIDE_LINE));
    await assert.rejects(
      etl(['schedule', 'create', 'files', '--stream', 'transactions', '--location', '/etc/', '--every', '1h']),
      refusedWith(2, OUTSIDE_LINE),
    );
    const { rows } = await env.pool.query('SELECT count(*)::int AS n FROM source_files');
    assert.equal(rows[0].n, 0);
  });

  it('refuses a link inside a root to a file outside it, given directly, in a folder or by a glob', { timeout: 240_000 }, async () => {
    const link = path.join(root, 'in', 'link.jsonl');
    const target = path.join(outside, 'private.jsonl');
    await assert.rejects(
      etl(['ingest', 'files', 'transactions', link]),
      refusedWith(
        2,
        new RegExp(
          `^error \\[FILE_OUTSIDE_ROOTS\\]: ${link} \\(a symbolic link to ${target}\\) is outside FILE_SOURCE_ROOTS \\(${root}\\)`,
        ),
      ),
    );
    await withWorker(env, async () => {
      for (const where of [path.join(root, 'in'), `${root}/in/*.jsonl`]) {
        await assert.rejects(
          etl(['ingest', 'files', 'transactions', where]),
          refusedWith(2, new RegExp(`FILE_OUTSIDE_ROOTS.*${link} \\(a symbolic link to ${target}\\)`)),
          where,
        );
      }
    });
    const { rows } = await env.pool.query('SELECT count(*)::int AS n FROM source_files');
    assert.equal(rows[0].n, 0, 'discovery registered nothing, the good file included: the run was refused before it');
  });
});
