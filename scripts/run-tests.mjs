// Runs the test files under test/ (or only test/<kind>/) with node's test runner through tsx, one
// file at a time, and says first which Node runs them.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const kinds = process.argv.slice(2);
const globs = (kinds.length ? kinds : ['unit', 'workflows', 'integration']).map((k) => `test/${k}/**/*.test.ts`);

// kafkajs's negative-timer warning (see scripts/launch.mjs), also for node processes the tests start.
function quietNodeOptions() {
  const flag = '--disable-warning=TimeoutNegativeWarning';
  const options = process.env.NODE_OPTIONS ?? '';
  return options.includes(flag) ? options : `${flag} ${options}`.trim();
}

console.log(`tests on Node ${process.version} (${process.execPath})`);
const result = spawnSync(process.execPath, [
  '--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec',
  // A hung test or hook fails loudly instead of eating CI's time; a leaked handle cannot stall the run.
  '--test-timeout=300000', '--test-force-exit',
  ...globs,
], { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_OPTIONS: quietNodeOptions() } });
process.exit(result.status ?? 1);
