// Runs the test files under test/ (or only test/<kind>/) with node's test runner through tsx, several
// files at a time, and says first which Node runs them. Files isolate themselves on the shared stack
// (schema, topic and S3 prefixes, task queue: test/support/isolation.ts), so they can run side by side.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const kinds = process.argv.slice(2);
const globs = (kinds.length ? kinds : ['unit', 'workflows', 'integration']).map((k) => `test/${k}/**/*.test.ts`);

// Test files at once: most of a file's time is spent waiting on a server (a consumer group, a
// workflow timer, a poll), so more files than cores keep the machine busy. TEST_CONCURRENCY overrides.
const concurrency = Number(process.env.TEST_CONCURRENCY ?? 4);

// kafkajs's negative-timer warning (see scripts/launch.mjs), also for node processes the tests start.
function quietNodeOptions() {
  const flag = '--disable-warning=TimeoutNegativeWarning';
  const options = process.env.NODE_OPTIONS ?? '';
  return options.includes(flag) ? options : `${flag} ${options}`.trim();
}

// The whole suite takes about 12 min here; three times that is a stall, not a slow machine.
const WATCHDOG_MS = 36 * 60_000;

console.log(`tests on Node ${process.version} (${process.execPath}), ${concurrency} files at a time`);
// Tests run bin/etl, which builds first when dist/ is stale: build here, once, so that no test sees
// the build's lines in a command's output or two tests build at the same time.
const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--if-stale'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    // A hung test or hook fails loudly instead of eating CI's time. No --test-force-exit: under it the
    // runner drops finished tests from its report (a file of 58 tests reported 16 to 58, all green), so
    // the counts could not be trusted; a handle a test leaks is a bug to fix, and the watchdog below
    // ends a run that such a leak would stall.
    '--test-timeout=300000',
    // The runner starts the files in path order: integration/ first, whose files take longest.
    ...globs,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_OPTIONS: quietNodeOptions() }, timeout: WATCHDOG_MS, killSignal: 'SIGKILL' },
);
if (result.error?.code === 'ETIMEDOUT') {
  console.error(
    `tests: still running after ${WATCHDOG_MS / 60_000} min, stopped: a test file left a handle open (a client, a server, a timer) and its process could not exit`,
  );
}
process.exit(result.status ?? 1);
