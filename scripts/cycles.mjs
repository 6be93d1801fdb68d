// The import cycles between the project's files, type imports included (dpdm). eslint-plugin-import-x's
// no-cycle skips `import type`, yet a cycle of types still ties two files into one: the cycles this
// project had (activities/archive/follow.ts ↔ follower.ts, streams/define.ts ↔ storable.ts) were
// type imports one way. Used by scripts/lint.mjs and by test/unit/lint.test.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Every TypeScript file the typecheck sees (tsconfig.json's include), as dpdm globs. */
function projectFiles(root) {
  const { include } = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8'));
  return include.map((entry) => (entry.endsWith('.ts') ? entry : `${entry}/**/*.ts`));
}

/** The cycles found (each a list of files, relative to root) and dpdm's printout of them. */
export async function findCycles(root) {
  const { parseCircular, parseDependencyTree, prettyCircular } = await import('dpdm');
  const tree = await parseDependencyTree(projectFiles(root), { cwd: root, context: root, transform: false });
  const cycles = parseCircular(tree);
  return { cycles, printout: cycles.length > 0 ? prettyCircular(cycles) : '' };
}
