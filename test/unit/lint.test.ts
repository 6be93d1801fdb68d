// `npm run lint` must refuse an import that points back up a layer, an import cycle and dead code. These tests
// write small probe files into a copy of the tree (the other test files run beside them, and bin/etl
// would rebuild dist/ for a probe in the real one), lint them with the project's own configuration
// (eslint.config.mjs, scripts/cycles.mjs, knip.json), and remove the copy whatever happens.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { PROJECT_ROOT } from '../../lib/config';

const NOT_SOURCE = /^\/(node_modules|\.stack|\.git|dist|test-artifacts)(\/|$)/;
const tree = mkdtempSync(path.join(os.tmpdir(), 'etl-lint-'));
before(() => {
  cpSync(PROJECT_ROOT, tree, { recursive: true, filter: (src) => !NOT_SOURCE.test(src.slice(PROJECT_ROOT.length)) });
  symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(tree, 'node_modules'));
});
after(() => rmSync(tree, { recursive: true, force: true }));

function probe(relative: string, source: string): string {
  const file = path.join(tree, relative);
  writeFileSync(file, source);
  return file;
}

const tag = `lint-probe-${process.pid}`;

async function layerMessages(file: string): Promise<string[]> {
  const results = await new ESLint({ cwd: tree }).lintFiles([file]);
  return results
    .flatMap((r) => r.messages)
    .filter((m) => m.ruleId === 'import-x/no-restricted-paths')
    .map((m) => m.message);
}

describe('npm run lint keeps the layers and refuses cycles and dead code', () => {
  it('fails an import from lib/ up into streams/, naming the rule in eslint.config.mjs', async () => {
    const file = probe(`lib/${tag}-up.ts`, "import { streamNames } from '../streams';\nexport const names = streamNames();\n");
    const messages = await layerMessages(file);
    assert.equal(messages.length, 1, `expected one layer error, got ${JSON.stringify(messages)}`);
    assert.match(messages[0] ?? '', /lib\/ may import only shared\/ besides itself/);
  });

  it('fails the product reaching into tools/ (the dashboard importing the chaos harness)', async () => {
    const file = probe(`dashboard/${tag}-tools.ts`, "export type { Fault } from '../tools/chaos/faults';\n");
    const messages = await layerMessages(file);
    assert.equal(messages.length, 1, `expected one layer error, got ${JSON.stringify(messages)}`);
    assert.match(messages[0] ?? '', /dashboard\/ may import only shared\/, lib\/, streams\/, forecast\//);
  });

  it('lets an import that points down a layer pass', async () => {
    const file = probe(`activities/${tag}-down.ts`, "import { streamNames } from '../streams';\nexport const names = streamNames();\n");
    assert.deepEqual(await layerMessages(file), []);
  });

  it('lets workflows/ import shared/ code, and keeps shared/ free of anything but its siblings', async () => {
    const messages = async (file: string) =>
      (await new ESLint({ cwd: tree }).lintFiles([file]))
        .flatMap((r) => r.messages)
        .filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports' || m.ruleId === 'import-x/no-restricted-paths')
        .map((m) => m.message);
    const workflow = probe(
      `workflows/${tag}-shared.ts`,
      "import { emptyReplayCounts } from '../shared/replay-counts';\nexport const counts = emptyReplayCounts();\n",
    );
    assert.deepEqual(await messages(workflow), []);
    const impure = probe(`shared/${tag}-impure.ts`, "import { randomUUID } from 'node:crypto';\nexport const id = randomUUID();\n");
    assert.equal((await messages(impure)).filter((m) => /shared\/ is pure code/.test(m)).length, 1);
    const up = probe(`shared/${tag}-up.ts`, "import type { Config } from '../lib/config';\nexport type C = Config;\n");
    assert.deepEqual(await messages(up), [
      'Unexpected path "../lib/config" imported in restricted zone. shared/ may import only packages besides itself (eslint.config.mjs, LAYERS).',
    ]);
  });

  it('finds a cycle between two files even when one side imports only a type', async () => {
    const { findCycles } = (await import(path.join(PROJECT_ROOT, 'scripts', 'cycles.mjs'))) as {
      findCycles(root: string): Promise<{ cycles: string[][]; printout: string }>;
    };
    const clean = await findCycles(tree);
    assert.deepEqual(clean.cycles, [], `the tree itself has cycles:\n${clean.printout}`);

    probe(`lib/${tag}-a.ts`, `import type { B } from './${tag}-b';\nexport interface A { b?: B }\n`);
    probe(`lib/${tag}-b.ts`, `import { type A } from './${tag}-a';\nexport interface B { a?: A }\nexport const none: A = {};\n`);
    const { cycles } = await findCycles(tree);
    assert.equal(cycles.length, 1, JSON.stringify(cycles));
    assert.deepEqual((cycles[0] ?? []).map((f) => path.basename(f)).sort(), [`${tag}-a.ts`, `${tag}-b.ts`]);
  });

  it('fails an export nothing imports and a dependency nothing uses (knip), naming both', () => {
    appendFileSync(path.join(tree, 'lib', 'random.ts'), `\nexport const deadProbe${process.pid} = 1;\n`);
    const manifest = JSON.parse(readFileSync(path.join(tree, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    manifest.dependencies['@aws-sdk/lib-storage'] = '^3.0.0';
    writeFileSync(path.join(tree, 'package.json'), JSON.stringify(manifest, null, 2));
    const knip = spawnSync(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'knip'), ['--no-progress', '--no-config-hints'], {
      cwd: tree,
      encoding: 'utf8',
    });
    assert.equal(knip.status, 1, knip.stderr);
    assert.match(knip.stdout, new RegExp(`deadProbe${process.pid} +lib/random\\.ts`));
    assert.match(knip.stdout, /Unused dependencies \(1\)\n@aws-sdk\/lib-storage +package\.json/);
  });
});
