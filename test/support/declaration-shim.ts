// Loading a declaration module the way a user's folder holds it: `etl-temporal/define` resolves
// through a node_modules/etl-temporal of the folder that points at test/support/define-shim.ts.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StreamSpec } from '../../streams/types';

/** Makes `import … from 'etl-temporal/define'` resolve for the modules under `dir`. */
export async function linkDefine(dir: string): Promise<void> {
  const pkg = path.join(dir, 'node_modules', 'etl-temporal');
  await mkdir(pkg, { recursive: true });
  await writeFile(path.join(pkg, 'package.json'), JSON.stringify({ name: 'etl-temporal', version: '0.0.0' }));
  await writeFile(path.join(pkg, 'define.js'), `module.exports = require(${JSON.stringify(path.join(__dirname, 'define-shim.ts'))});\n`);
}

/** The StreamSpec a declaration module exports by default. */
export async function loadDeclaration(file: string): Promise<StreamSpec> {
  const mod = (await import(file)) as { default: StreamSpec | { default: StreamSpec } };
  return 'default' in mod.default ? mod.default.default : mod.default;
}
