// No SQL is built from data: every interpolation inside a SQL template literal must be an
// identifier quoted by ident() (code-declared names) or one of the few reviewed exceptions below.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../lib/config';

const SQL_WORD = /\b(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|GRANT|REFRESH|COPY|TRUNCATE)\b/;
/** Reviewed: `$n::text` placeholders counted from an array length, a sum of ident()-quoted columns, a constant predicate. */
const REVIEWED: Record<string, string[]> = {
  'lib/migrate.ts': ['placeholders'],
  'activities/quality/quality.ts': ['nullChecks', 'LOADED_OR_NO_OBJECT'],
  'activities/transform-load/direct-load.ts': ['flatColumns', 'LINEAGE'],
  // The constant "parked" predicate and column list (lib/parked.ts), shared so every reader agrees.
  'lib/parked.ts': ['COLUMNS', 'isParkedSql()'],
  'activities/quality/quality-parked.ts': ['isParkedSql()', "isParkedSql('b')"],
  'activities/parking.ts': ['isParkedSql()'],
  'activities/work-queue.ts': ['isParkedSql()'],
  'tools/chaos/reconcile.ts': ['isParkedSql()'],
  'tools/chaos/storage-checks.ts': ['isParkedSql()'],
  'client/commands/objects.ts': ['ROW', "UTC('retried_at')", 'isParkedSql()'],
  // The constant key expression of an object's advisory lock (lib/postgres.ts), qualified by the schema.
  'activities/transform-load/transform-load.ts': ['OBJECT_LOCK_KEY'],
  'activities/replay/replay.ts': ['OBJECT_LOCK_KEY'],
  // The constant "lake behind" predicate (activities/lake/behind.ts), shared so every reader agrees.
  'activities/lake/behind.ts': ['LAKE_BEHIND'],
  'activities/quality/quality-lake.ts': ['LAKE_BEHIND'],
  'client/commands/lake.ts': ['LAKE_BEHIND'],
  // COPY takes no parameters: a checked safe integer, and a list of ident()-quoted columns.
  'activities/lake/write.ts': ['selectList', 'objectId', 'OBJECT_LOCK_KEY'],
  // DuckDB SQL over this process's own temp files: quoted paths, names and dates; enum and integer settings.
  'activities/lake/parquet.ts': ['source', 'columnTypes', 'selectList', 'eventDateColumn', 'orderKey', 'day', 'target', 'settings'],
  // SQL generated from a stream declaration: every name has passed ident() and every type sqlType().
  'streams/define.ts': [
    'keyOf()',
    'd.key.name',
    'firstPerKey',
    'staged(eventTime)',
    'lineage',
    "columns.map((c) => c.id).join(', ')",
    "columns.map((c) => c.value).join(', ')",
    "columns.map((c) => `${c.value} AS ${c.id}`).join(', ')",
    "columns.map((c) => `${c.id} = n.${c.id}`).join(', ')",
    "columns.map((c) => `f.${c.id}`).join(', ')",
    "columns.map((c) => `n.${c.id}`).join(', ')",
    // The search documents' json_build_object pairs: names checked by ident(), values ident()-quoted columns.
    "pairs.join(', ')",
  ],
  // A stream's tables from its declaration: names through ident(), types the canonical form of a
  // type lib/column-types.ts accepted from its closed list, the lineage columns a constant.
  'lib/stream-tables.ts': ['key', 'LINEAGE_DDL', 'c.type'],
};

export function unsafeInterpolations(source: string, file = ''): string[] {
  const found: string[] = [];
  for (const [literal] of source.matchAll(/`(?:[^`\\]|\\.)*`/gs)) {
    if (!SQL_WORD.test(literal)) continue;
    for (const [, expr] of literal.matchAll(/\$\{([^}]*)\}/g)) {
      const e = expr!.trim();
      const quotedVariable = /^[A-Za-z_]\w*$/.test(e) && new RegExp(`const ${e} = ident\\(`).test(source);
      if (/^ident\(/.test(e) || quotedVariable || REVIEWED[file]?.includes(e)) continue;
      found.push(`${file}: \${${e}} in ${literal.slice(0, 60).replace(/\s+/g, ' ')}…`);
    }
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return name.endsWith('.ts') ? [p] : [];
  });
}

describe('SQL safety', () => {
  it('flags data interpolated into SQL (the scanner works)', () => {
    assert.equal(unsafeInterpolations('q(`SELECT * FROM t WHERE id = ${id}`)').length, 1);
    assert.equal(unsafeInterpolations('q(`SELECT * FROM ${ident(t)} WHERE id = $1`)').length, 0);
  });

  it('finds no string-built SQL in the code base', () => {
    const dirs = ['lib', 'sources', 'forecast', 'activities', 'workflows', 'worker', 'client', 'streams', 'dashboard', 'tools'];
    const problems = dirs
      .flatMap((d) => sourceFiles(path.join(PROJECT_ROOT, d)))
      .flatMap((f) => unsafeInterpolations(readFileSync(f, 'utf8'), path.relative(PROJECT_ROOT, f)));
    assert.deepEqual(problems, []);
  });
});
