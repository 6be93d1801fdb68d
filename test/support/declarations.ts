// Loading a declaration module the way a user's folder holds it: `etl-temporal/define` resolves
// through a node_modules/etl-temporal of the folder that points at test/support/define-shim.ts.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { ident } from '../../lib/sql';
import type { StreamSpec } from '../../streams/types';
import { declarations } from './define-shim';

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

const LINEAGE =
  'ingested_at timestamptz NOT NULL DEFAULT now(), load_id bigint, bronze_object_id bigint, kafka_topic text, kafka_partition integer, kafka_offset bigint';

/** The raw and flat tables of a stream loaded by loadDeclaration, as its declaration says them. */
export async function createDeclaredTables(pool: pg.Pool, spec: StreamSpec): Promise<void> {
  const d = declarations.get(spec);
  if (!d) throw new Error(`stream ${spec.name} was not loaded through loadDeclaration`);
  const key = `${ident(d.key.name)} ${d.key.type} PRIMARY KEY`;
  const columns = d.columns.map((c) => `${ident(c.name)} ${c.type}${c.notNull ? ' NOT NULL' : ''}`);
  await pool.query(`
    CREATE TABLE ${ident(d.rawTable)} (${key}, event_ts timestamptz NOT NULL, payload jsonb NOT NULL, ${LINEAGE});
    CREATE TABLE ${ident(d.flatTable)} (${key}, ${columns.join(', ')}, ${LINEAGE});`);
}
