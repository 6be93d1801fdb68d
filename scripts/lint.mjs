// `npm run lint`: eslint (the type-aware rules and the layer rules of eslint.config.mjs), then no
// import cycle between the project's files, type imports included (dpdm). eslint-plugin-import-x's
// no-cycle skips `import type`, yet a cycle of types still ties two files into one: the cycles this
// project had (activities/archive/follow.ts ↔ follower.ts, streams/define.ts ↔ storable.ts) were
// type imports one way. Extra arguments go to eslint (`npm run lint -- --fix`).
// Runs on Node 22+ (scripts/launch.mjs chose it).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const eslint = spawnSync(path.join(root, 'node_modules', '.bin', 'eslint'), ['.', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });

// Every TypeScript file the typecheck sees (tsconfig.json's include), and what they import.
const { include } = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8'));
const files = include.map((entry) => (entry.endsWith('.ts') ? entry : `${entry}/**/*.ts`));
const { parseCircular, parseDependencyTree, prettyCircular } = await import('dpdm');
const tree = await parseDependencyTree(files, { cwd: root, context: root, transform: false });
const cycles = parseCircular(tree);
if (cycles.length > 0) {
  console.error(`\nimport cycles: each file below reaches itself through its imports (types included). Move what both\nsides need into a file that both import (the types of a module usually go to its types.ts).\n${prettyCircular(cycles)}`);
}

process.exit(eslint.status !== 0 ? (eslint.status ?? 1) : cycles.length > 0 ? 1 : 0);
