// `npm run build`: compiles the project with tsc into dist/ (git-ignored) and pre-bundles the
// workflow code with the SDK's bundleWorkflowCode into dist/workflow-bundle.js, so `etl worker`
// starts without webpack (a prebuilt `workflowBundle`, as Temporal recommends for production; workers
// run from source take it too while the build is current: worker/workflow-code.ts) and the CLI
// without transpiling on every call. Runs on Node 22+ (see scripts/launch.mjs).
//
//   node scripts/build.mjs              build
//   node scripts/build.mjs --if-stale   build only when an input changed after the last build
//
// The last step writes dist/.build-inputs (what bin/etl compares with `find -newer`) and the stamp.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = path.join(root, 'dist');
export const STAMP = path.join(DIST, '.build-stamp');
export const WORKFLOW_BUNDLE = path.join(DIST, 'workflow-bundle.js');
/** Everything the build reads: a change to any of them (or a file added to or removed from these folders) makes it stale. */
export const INPUTS = [
  'shared',
  'lib',
  'streams',
  'sources',
  'forecast',
  'activities',
  'workflows',
  'worker',
  'client',
  'dashboard',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'scripts/build.mjs',
];
const LOCK = path.join(DIST, '.build-lock');
const say = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function newestMtime(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(p).reduce((newest, entry) => Math.max(newest, newestMtime(path.join(p, entry))), st.mtimeMs);
}

/** True when dist/ is missing, unfinished, or older than any input. */
export function isStale() {
  if (!existsSync(STAMP) || !existsSync(WORKFLOW_BUNDLE)) return true;
  const built = statSync(STAMP).mtimeMs;
  return INPUTS.some((input) => newestMtime(path.join(root, input)) > built);
}

/** One build at a time (bin/etl may be started many times at once by tests): a lock file holding the pid. */
async function withLock(fn) {
  mkdirSync(DIST, { recursive: true });
  for (let announced = false; ;) {
    try {
      writeFileSync(LOCK, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(LOCK, 'utf8').trim());
      let alive = false;
      try {
        process.kill(owner, 0);
        alive = owner > 0;
      } catch (e) {
        alive = e.code === 'EPERM';
      }
      if (!alive) {
        rmSync(LOCK, { force: true });
        continue;
      }
      if (!announced) say(`build: waiting for the build of pid ${owner}…`);
      announced = true;
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { force: true });
  }
}

async function build() {
  const started = Date.now();
  // The stamp goes first: a build that fails half-way leaves dist/ stale.
  rmSync(STAMP, { force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const compiled = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  if (compiled.status !== 0) throw new Error(`tsc failed (exit ${compiled.status ?? compiled.signal})`);
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn: (m) => say(`build: ${m}`), error: (m) => say(`build: ${m}`) };
  const { code } = await bundleWorkflowCode({ workflowsPath: path.join(DIST, 'workflows', 'index.js'), logger: quiet });
  // Renamed into place: a worker run from source may read it while a build runs (worker/workflow-code.ts).
  writeFileSync(`${WORKFLOW_BUNDLE}.tmp`, code);
  renameSync(`${WORKFLOW_BUNDLE}.tmp`, WORKFLOW_BUNDLE);
  writeFileSync(path.join(DIST, '.build-inputs'), `${INPUTS.join('\n')}\n`);
  writeFileSync(STAMP, `${new Date().toISOString()} node ${process.version}\n`);
  say(`build: compiled into dist/ and bundled the workflows in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function main() {
  const ifStale = process.argv.includes('--if-stale');
  await withLock(async () => {
    // Checked under the lock: whoever held it may just have built what we need.
    if (ifStale && !isStale()) return;
    if (ifStale) say('build: sources changed since the last build (or there is none); building…');
    await build();
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    say(`build failed: ${err.message}`);
    process.exit(1);
  });
}
