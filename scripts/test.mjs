// `npm test`: lint, typecheck, build, start the local stack, then every unit and integration test.
// Runs on Node 22+ (scripts/launch.mjs chose it); each step stops the run when it fails.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const steps = [
  ['lint', process.execPath, [path.join(root, 'scripts', 'lint.mjs')]],
  ['typecheck', bin('tsc'), ['--noEmit']],
  ['build', process.execPath, [path.join(root, 'scripts', 'build.mjs')]],
  // OpenSearch too: the search sink's tests run against a real node (its install adds ~20 s, its start ~5 s).
  ['stack up', path.join(root, 'bin', 'etl'), ['stack', 'up', '--with', 'opensearch']],
  ['tests', process.execPath, [path.join(root, 'scripts', 'run-tests.mjs')]],
];
for (const [name, command, args] of steps) {
  console.log(`== ${name}`);
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`npm test: ${name} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
    process.exit(r.status || 1);
  }
}
