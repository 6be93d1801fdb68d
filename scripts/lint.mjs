// `npm run lint`: eslint (the type-aware rules and the layer rules of eslint.config.mjs), the
// formatting (Prettier, .prettierrc.json; `npm run format` rewrites), then no import cycle between the
// project's files, type imports included (scripts/cycles.mjs), then no dead code: no unused file, export
// or dependency (knip, knip.json names the entry points). Extra arguments go to eslint
// (`npm run lint -- --fix`). Runs on Node 22+ (scripts/launch.mjs chose it).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCycles } from './cycles.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const eslint = spawnSync(path.join(root, 'node_modules', '.bin', 'eslint'), ['.', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});

const prettier = spawnSync(path.join(root, 'node_modules', '.bin', 'prettier'), ['--check', '--log-level', 'warn', '.'], {
  cwd: root,
  stdio: 'inherit',
});
if (prettier.status !== 0)
  console.error('formatting: the files above are not formatted as .prettierrc.json says; `npm run format` rewrites them');

const knip = spawnSync(path.join(root, 'node_modules', '.bin', 'knip'), ['--no-progress'], { cwd: root, stdio: 'inherit' });
if (knip.status !== 0)
  console.error(
    'dead code: the files, exports or dependencies above are used by nothing (knip); delete them, or name a new entry point in knip.json',
  );

const { cycles, printout } = await findCycles(root);
if (cycles.length > 0) {
  console.error(
    `\nimport cycles: each file below reaches itself through its imports (types included). Move what both\nsides need into a file that both import (the types of a module usually go to its types.ts).\n${printout}`,
  );
}

process.exit(eslint.status !== 0 || prettier.status !== 0 || knip.status !== 0 || cycles.length > 0 ? 1 : 0);
