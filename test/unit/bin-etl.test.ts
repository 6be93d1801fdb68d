// bin/etl runs the build and rebuilds it only when it is missing or older than an input it lists.
// The real script runs in a stand-in checkout whose build script and built CLI only say they ran.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../lib/config';

describe('bin/etl', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'etl-bin-'));
  const file = (rel: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  };
  const age = (rel: string, secondsAgo: number) => {
    const t = new Date(Date.now() - secondsAgo * 1000);
    utimesSync(path.join(root, rel), t, t);
  };
  const etl = (...args: string[]) =>
    execFileSync(path.join(root, 'bin', 'etl'), args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      // This node first on PATH: it is 22+, so bin/etl takes it without the launcher.
      env: { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` },
    });

  before(() => {
    mkdirSync(path.join(root, 'bin'));
    copyFileSync(path.join(PROJECT_ROOT, 'bin', 'etl'), path.join(root, 'bin', 'etl'));
    file('package-lock.json', '{}');
    file('node_modules/.package-lock.json', '{}');
    file('lib/a.ts', 'export {};');
    // The stand-in build writes what the real one does last (inputs and stamp) and counts its runs.
    file(
      'scripts/build.mjs',
      `import { appendFileSync, writeFileSync, mkdirSync } from 'node:fs';
      mkdirSync('${root}/dist', { recursive: true });
      appendFileSync('${root}/builds', 'x');
      writeFileSync('${root}/dist/.build-inputs', 'lib\\npackage-lock.json\\n');
      writeFileSync('${root}/dist/.build-stamp', 'now');`,
    );
    file('dist/client/main.js', `console.log('built cli: ' + process.argv.slice(2).join(' '));`);
    for (const rel of ['package-lock.json', 'lib/a.ts', 'lib', 'scripts/build.mjs']) age(rel, 60);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const builds = () => (existsSync(path.join(root, 'builds')) ? readFileSync(path.join(root, 'builds'), 'utf8').length : 0);

  it('builds when there is no build yet, then runs the built CLI with the arguments', () => {
    assert.equal(etl('status', '--json').trim(), 'built cli: status --json');
    assert.equal(builds(), 1);
  });

  it('does not build again while nothing changed', () => {
    etl('--help');
    etl('--help');
    assert.equal(builds(), 1);
  });

  it('builds again when a listed input is newer than the stamp, or a file is added', () => {
    age('dist/.build-stamp', 30);
    writeFileSync(path.join(root, 'lib', 'a.ts'), 'export const changed = 1;');
    etl('--help');
    assert.equal(builds(), 2);
    age('dist/.build-stamp', 30);
    age('lib/a.ts', 60);
    age('lib', 60);
    file('lib/b.ts', 'export {};');
    etl('--help');
    assert.equal(builds(), 3);
  });
});
