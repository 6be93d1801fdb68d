// The runtime the project promises: Node 22+ for everything, reached through scripts/launch.mjs
// even when PATH has an older node (it then runs on Node 24 from the state folder).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../lib/config';

const LAUNCH = path.join(PROJECT_ROOT, 'scripts', 'launch.mjs');
const major = (v: string) => Number(/^v?(\d+)/.exec(v)![1]);

/** Runs `body` (ESM, with the launcher imported as `launch`) in a child node and returns its stdout. */
function withLauncher(body: string, env: Record<string, string> = {}): string {
  const code = `const launch = await import(${JSON.stringify(LAUNCH)});\n${body}`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', env: { ...process.env, ...env } });
}

describe('runtime', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'etl-runtime-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('the suite runs on Node 22 or newer', () => {
    console.log(`  node ${process.version} at ${process.execPath}`);
    assert.ok(major(process.version) >= 22, `running on ${process.version}`);
  });

  it('package.json asks for the Node the launcher guarantees, and types for the Node it installs', () => {
    const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      engines: { node: string };
      devDependencies: Record<string, string>;
    };
    const { MIN_NODE_MAJOR, NODE_LINE } = JSON.parse(
      withLauncher('console.log(JSON.stringify({ MIN_NODE_MAJOR: launch.MIN_NODE_MAJOR, NODE_LINE: launch.NODE_LINE }));'),
    ) as { MIN_NODE_MAJOR: number; NODE_LINE: number };
    assert.equal(pkg.engines.node, `>=${MIN_NODE_MAJOR}`);
    assert.equal(major(pkg.devDependencies['@types/node']!.replace(/^\D+/, '')), NODE_LINE);
  });

  it('on Node 22+ the launcher keeps the running node and installs nothing', () => {
    const out = execFileSync(process.execPath, [LAUNCH, '--print-node'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(out.trim(), process.execPath);
  });

  it('on an older node it picks the Node installed in the state folder, first on PATH for children', () => {
    // A stand-in for <state>/node, as a finished install leaves it (binary and stamp).
    const state = path.join(tmp, 'state');
    const fakeNode = path.join(state, 'node', 'bin', 'node');
    mkdirSync(path.dirname(fakeNode), { recursive: true });
    writeFileSync(fakeNode, '#!/bin/sh\necho v24.0.0\n');
    chmodSync(fakeNode, 0o755);
    writeFileSync(path.join(state, 'node', 'etl-node-version'), 'v24.0.0\n');
    const out = withLauncher(
      `
      Object.defineProperty(process, 'version', { value: 'v20.11.0' });
      const chosen = launch.chooseNode();
      const env = launch.envFor(chosen);
      console.log(JSON.stringify({ chosen, first: env.PATH.split(':')[0], options: env.NODE_OPTIONS }));
    `,
      { ETL_STATE_DIR: state },
    );
    const r = JSON.parse(out) as { chosen: string; first: string; options: string };
    assert.equal(r.chosen, fakeNode);
    assert.equal(r.first, path.dirname(fakeNode));
    assert.match(r.options, /--disable-warning=TimeoutNegativeWarning/);
  });

  it('reads ETL_STATE_DIR as lib/config does: the environment first, relative to the checkout', () => {
    const out = withLauncher('console.log(launch.stateDir());', { ETL_STATE_DIR: 'some/where' });
    assert.equal(out.trim(), path.join(PROJECT_ROOT, 'some', 'where'));
  });
});
