// Runs the test files under test/ (or only test/<kind>/) with node's test runner through tsx.
// Node 20's runner does not expand globs, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const kinds = process.argv.slice(2);
const dirs = (kinds.length ? kinds : ['unit', 'workflows', 'integration']).map((k) => path.join(root, 'test', k));

function testFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return testFiles(p);
    return name.endsWith('.test.ts') ? [p] : [];
  }).sort();
}

const files = dirs.flatMap(testFiles);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const result = spawnSync(process.execPath, [
  '--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec',
  // A hung test or hook fails loudly instead of eating CI's time; a leaked handle cannot stall the run.
  '--test-timeout=300000', '--test-force-exit',
  ...files,
], {
  cwd: root,
  stdio: 'inherit',
  // The AWS SDK's "Node 22 after January 2027" notice, once per test file, drowns the output.
  env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env },
});
process.exit(result.status ?? 1);
