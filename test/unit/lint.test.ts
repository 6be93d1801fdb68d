// `npm run lint` must refuse an import that points back up a layer and an import cycle. These tests
// write small probe files into the real tree, lint them with the project's own configuration
// (eslint.config.mjs, scripts/cycles.mjs), and remove them whatever happens.
import assert from 'node:assert/strict';
import { rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { PROJECT_ROOT } from '../../lib/config';

const probes: string[] = [];
// A folder's times before its first probe: put back afterwards, so that bin/etl's staleness check
// (files and folders newer than the last build) does not rebuild dist/ for probes long gone.
const folderTimes = new Map<string, { atime: Date; mtime: Date }>();
function probe(relative: string, source: string): string {
  const file = path.join(PROJECT_ROOT, relative);
  const folder = path.dirname(file);
  if (!folderTimes.has(folder)) folderTimes.set(folder, statSync(folder));
  probes.push(file);
  writeFileSync(file, source);
  return file;
}
after(() => {
  for (const file of probes) rmSync(file, { force: true });
  for (const [folder, { atime, mtime }] of folderTimes) utimesSync(folder, atime, mtime);
});

const tag = `lint-probe-${process.pid}`;

async function layerMessages(file: string): Promise<string[]> {
  const results = await new ESLint({ cwd: PROJECT_ROOT }).lintFiles([file]);
  return results
    .flatMap((r) => r.messages)
    .filter((m) => m.ruleId === 'import-x/no-restricted-paths')
    .map((m) => m.message);
}

describe('npm run lint keeps the layers and refuses cycles', () => {
  it('fails an import from lib/ up into streams/, naming the rule in eslint.config.mjs', async () => {
    const file = probe(`lib/${tag}-up.ts`, "import { streamNames } from '../streams';\nexport const names = streamNames();\n");
    const messages = await layerMessages(file);
    assert.equal(messages.length, 1, `expected one layer error, got ${JSON.stringify(messages)}`);
    assert.match(messages[0] ?? '', /lib\/ may import only packages besides itself/);
  });

  it('fails the product reaching into tools/ (the dashboard importing the chaos harness)', async () => {
    const file = probe(`dashboard/${tag}-tools.ts`, "export type { Fault } from '../tools/chaos/faults';\n");
    const messages = await layerMessages(file);
    assert.equal(messages.length, 1, `expected one layer error, got ${JSON.stringify(messages)}`);
    assert.match(messages[0] ?? '', /dashboard\/ may import only lib\/, streams\/, forecast\//);
  });

  it('lets an import that points down a layer pass', async () => {
    const file = probe(`activities/${tag}-down.ts`, "import { streamNames } from '../streams';\nexport const names = streamNames();\n");
    assert.deepEqual(await layerMessages(file), []);
  });

  it('finds a cycle between two files even when one side imports only a type', async () => {
    const { findCycles } = (await import(path.join(PROJECT_ROOT, 'scripts', 'cycles.mjs'))) as {
      findCycles(root: string): Promise<{ cycles: string[][]; printout: string }>;
    };
    const clean = await findCycles(PROJECT_ROOT);
    assert.deepEqual(clean.cycles, [], `the tree itself has cycles:\n${clean.printout}`);

    probe(`lib/${tag}-a.ts`, `import type { B } from './${tag}-b';\nexport interface A { b?: B }\n`);
    probe(`lib/${tag}-b.ts`, `import { type A } from './${tag}-a';\nexport interface B { a?: A }\nexport const none: A = {};\n`);
    const { cycles } = await findCycles(PROJECT_ROOT);
    assert.equal(cycles.length, 1, JSON.stringify(cycles));
    assert.deepEqual((cycles[0] ?? []).map((f) => path.basename(f)).sort(), [`${tag}-a.ts`, `${tag}-b.ts`]);
  });
});
