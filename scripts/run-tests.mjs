// Runs the test files under test/ (or only test/<kind>/) with node's test runner through tsx, one
// file at a time, and says first which Node runs them.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const kinds = process.argv.slice(2);
const globs = (kinds.length ? kinds : ['unit', 'integration']).map((k) => `test/${k}/**/*.test.ts`);

console.log(`tests on Node ${process.version} (${process.execPath})`);
const result = spawnSync(process.execPath, [
  '--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec',
  // A hung test or hook fails loudly instead of eating CI's time; a leaked handle cannot stall the run.
  '--test-timeout=300000', '--test-force-exit',
  ...globs,
], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
