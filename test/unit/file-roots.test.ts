// FILE_SOURCE_ROOTS (lib/file-roots.ts, lib/files.ts): what the default covers, and that a path, a
// glob or a folder is judged by where it really is, so a symbolic link inside a root that points
// outside it is refused the same way from a folder, a glob or the path given; S3 prefixes likewise
// once the list names one.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { checkS3Location, fileSourceRoots, type FileRoots } from '../../lib/file-roots';
import { listFilePages, openFileBytes, parseLocation, withinRoots, type FoundFile, type RootedLocation } from '../../lib/files';

const NO_DOTENV = '/nonexistent/.env';
const noS3 = undefined as unknown as S3Client; // local locations never use it

async function listFiles(location: RootedLocation, s3: S3Client): Promise<FoundFile[]> {
  const found: FoundFile[] = [];
  for await (const page of listFilePages(location, s3)) found.push(...page.files);
  return found;
}

function refused(err: unknown, pattern: RegExp): boolean {
  assert.ok(err instanceof EtlError);
  assert.equal(err.code, 'FILE_OUTSIDE_ROOTS');
  assert.equal(err.retryable, false);
  assert.match(err.message, pattern);
  assert.match(err.message, /is outside FILE_SOURCE_ROOTS \(.*\): file sources read only under those/);
  return true;
}

describe('FILE_SOURCE_ROOTS', () => {
  let top: string;
  let root: string;
  let outside: string;
  let roots: FileRoots;

  before(() => {
    top = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'etl-roots-')));
    root = path.join(top, 'landing');
    outside = path.join(top, 'elsewhere');
    mkdirSync(path.join(root, 'in'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(path.join(root, 'in', 'good.jsonl'), '{}\n');
    writeFileSync(path.join(outside, 'private.jsonl'), '{"secret":1}\n');
    symlinkSync(path.join(outside, 'private.jsonl'), path.join(root, 'in', 'link.jsonl'));
    symlinkSync(outside, path.join(root, 'dirlink'));
    roots = fileSourceRoots(loadConfig({ FILE_SOURCE_ROOTS: root }, NO_DOTENV));
  });
  after(() => rmSync(top, { recursive: true, force: true }));

  it('defaults to the working directory and the OS temp directory, and takes a list', () => {
    const defaults = fileSourceRoots(loadConfig({}, NO_DOTENV));
    assert.deepEqual(defaults.local, [realpathSync(process.cwd()), realpathSync(os.tmpdir())]);
    assert.equal(defaults.s3, undefined, 'no s3:// entry: S3 is not bound by the list');
    const listed = fileSourceRoots(loadConfig({ FILE_SOURCE_ROOTS: '/srv/landing, s3://landing/tx' }, NO_DOTENV));
    assert.deepEqual(listed, { local: ['/srv/landing'], s3: [{ bucket: 'landing', prefix: 'tx/' }] });
    assert.throws(() => loadConfig({ FILE_SOURCE_ROOTS: 'relative/dir' }, NO_DOTENV), /FILE_SOURCE_ROOTS=.*absolute path or s3:\/\//);
  });

  it('refuses a path, a folder or a glob outside the roots before listing it', async () => {
    for (const p of ['/etc/', '/etc/passwd', outside, `${outside}/*.jsonl`, '/*', `${root}/../elsewhere/*.jsonl`, `${root}-old`]) {
      await assert.rejects(withinRoots(parseLocation(p), roots), (err) => refused(err, /outside/), p);
    }
    await assert.doesNotReject(withinRoots(parseLocation(`${root}/in/*.jsonl`), roots));
    await assert.doesNotReject(withinRoots(parseLocation(`${root}/not-yet-there`), roots));
  });

  it('refuses a symbolic link to outside the roots alike, whether given, globbed or found in a folder', async () => {
    const link = path.join(root, 'in', 'link.jsonl');
    const target = new RegExp(`${link} \\(a symbolic link to ${path.join(outside, 'private.jsonl')}\\)`);
    await assert.rejects(withinRoots(parseLocation(link), roots), (err) => refused(err, target));
    await assert.rejects(withinRoots(parseLocation(path.join(root, 'dirlink', 'private.jsonl')), roots), (err) =>
      refused(err, /symbolic link/),
    );
    for (const where of [path.join(root, 'in'), `${root}/in/*.jsonl`, root]) {
      const location = await withinRoots(parseLocation(where), roots);
      await assert.rejects(listFiles(location, noS3), (err) => refused(err, target), where);
    }
    // At read time too: a file swapped for a link after it was found is not opened.
    await assert.rejects(openFileBytes(`file://${link}`, noS3, null, roots), (err) => refused(err, /symbolic link/));
  });

  it('lists what is really inside, links within the roots included', async () => {
    rmSync(path.join(root, 'in', 'link.jsonl'));
    symlinkSync(path.join(root, 'in', 'good.jsonl'), path.join(root, 'in', 'alias.jsonl'));
    const found = await listFiles(await withinRoots(parseLocation(path.join(root, 'in')), roots), noS3);
    assert.deepEqual(
      found.map((f) => f.name),
      ['alias.jsonl', 'good.jsonl'],
    );
  });

  it('binds S3 locations once the list names an s3:// prefix, by whole path segments', () => {
    const s3 = fileSourceRoots(loadConfig({ FILE_SOURCE_ROOTS: `${root},s3://landing/tx/` }, NO_DOTENV));
    for (const prefix of ['tx/', 'tx', 'tx/2026/']) assert.doesNotThrow(() => checkS3Location(s3, 'landing', prefix), prefix);
    for (const [bucket, prefix] of [
      ['landing', 'tx-old/'],
      ['landing', ''],
      ['other', 'tx/'],
    ] as const) {
      assert.throws(
        () => checkS3Location(s3, bucket, prefix),
        (err) => refused(err, new RegExp(`s3://${bucket}/${prefix}`)),
      );
    }
    assert.doesNotThrow(() => checkS3Location(roots, 'any-bucket', 'any/'), 'no s3:// entry: not bound');
  });
});
