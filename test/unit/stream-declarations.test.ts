// Streams declared in a folder the user owns (ETL_STREAMS_DIR), loaded with the built-in ones:
// TypeScript or JavaScript, importing the product only as 'etl-temporal/define'. A set with one bad
// declaration is refused whole, with one line naming the file and the problem.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../lib/config';
import { isEtlError } from '../../lib/errors';
import { loadDeclarations } from '../../streams/loader';
import { declarationsDir, type DeclarationsDir } from '../support/declarations';

const fx = (over: { name?: string; topic?: string; key?: string; type?: string; raw?: string } = {}) => `
import { defineStream, z } from 'etl-temporal/define';
import { PAIRS } from './fx/pairs';

interface Quote { quote_id: number; pair: string; bid: number; at: string }

export default defineStream({
  name: '${over.name ?? 'fx_quotes'}',
  ${over.topic ? `topic: '${over.topic}',` : ''}
  schema: z.looseObject({ quote_id: z.number().int(), pair: z.enum(PAIRS), bid: z.number(), at: z.iso.datetime() }),
  enrich: (q: Quote) => ({ quote_id: q.quote_id, pair: q.pair, bid: q.bid.toFixed(5), at: q.at }),
  rawTable: '${over.raw ?? 'raw_fx_quotes'}',
  flatTable: '${over.raw ? `${over.raw}_flat` : 'fx_quotes_flat'}',
  key: ${over.key ? `'${over.key}'` : "{ name: 'quote_id', type: 'bigint' }"},
  eventTimeColumn: 'at',
  columns: [
    { name: 'pair', type: '${over.type ?? 'text'}', notNull: true, acceptedValues: PAIRS },
    { name: 'bid', type: 'numeric(12,5)', notNull: true },
    { name: 'at', type: 'timestamptz', notNull: true },
  ],
});
`;
const PAIRS = "export const PAIRS = ['EURUSD', 'USDJPY'] as const;\n";

/** The refusal a folder gets, as the one line a person reads. */
function refusal(folder: DeclarationsDir): string {
  try {
    loadDeclarations(folder.dir);
  } catch (err) {
    assert.ok(isEtlError(err), String(err));
    assert.equal(err.code, 'STREAM_DECLARATION');
    assert.doesNotMatch(err.message, /\n/, 'one line');
    return err.message;
  }
  assert.fail('the folder was accepted');
}

describe('stream declarations in a folder of the user', () => {
  const folders: DeclarationsDir[] = [];
  const folder = (files: Record<string, string>) => {
    const f = declarationsDir(files);
    folders.push(f);
    return f;
  };
  after(() => folders.forEach((f) => f.remove()));

  it('loads a TypeScript declaration with a helper of its own, alongside the built-in streams', () => {
    const f = folder({ 'fx.ts': fx(), 'fx/pairs.ts': PAIRS });
    const loaded = loadDeclarations(f.dir);
    assert.deepEqual(
      loaded.map((l) => l.spec.name),
      ['ticks', 'transactions', 'fx_quotes'],
    );
    const spec = loaded[2]!.spec;
    assert.equal(loaded[2]!.file, path.join(f.dir, 'fx.ts'));
    assert.deepEqual(spec.acceptedValues, [{ column: 'pair', values: ['EURUSD', 'USDJPY'] }]);
    const ok = spec.validate({ quote_id: 1, pair: 'EURUSD', bid: 1.08, at: '2026-12-01T10:00:00Z' }, { referenceTimeMs: 0 });
    assert.deepEqual(ok, { ok: true, row: { quote_id: 1, pair: 'EURUSD', bid: '1.08000', at: '2026-12-01T10:00:00Z' } });
  });

  it('loads JavaScript declarations, ESM or CommonJS, by their default or their only export', () => {
    const js = (name: string) => `{ name: '${name}', schema: z.looseObject({ n: z.number(), at: z.string() }), enrich: (e) => e,
      rawTable: 'raw_${name}', flatTable: '${name}_flat', key: { name: 'n', type: 'integer' }, eventTimeColumn: 'at',
      columns: [{ name: 'at', type: 'timestamptz' }] }`;
    const f = folder({
      'a.mjs': `import { defineStream, z } from 'etl-temporal/define';\nexport default defineStream(${js('esm_default')});\n`,
      'b.js': `const { defineStream, z } = require('etl-temporal/define');\nexports.counter = defineStream(${js('cjs_named')});\n`,
      'c.ts': `import { defineStream, z } from 'etl-temporal/define';\nexport const only = defineStream(${js('ts_named')});\n`,
    });
    assert.deepEqual(
      loadDeclarations(f.dir)
        .slice(2)
        .map((l) => l.spec.name),
      ['esm_default', 'cjs_named', 'ts_named'],
    );
  });

  it('refuses a syntax error, naming the file and the line', () => {
    const f = folder({ 'fx.ts': fx().replace("eventTimeColumn: 'at',", "eventTimeColumn: 'at',,"), 'fx/pairs.ts': PAIRS });
    const message = refusal(f);
    assert.match(message, new RegExp(`^stream declaration ${path.join(f.dir, 'fx.ts')}: syntax error at line \\d+`));
  });

  it('refuses two streams with one name, and two with one topic', () => {
    const sameName = folder({ 'a.ts': fx(), 'b.ts': fx({ raw: 'raw_other' }), 'fx/pairs.ts': PAIRS });
    assert.equal(
      refusal(sameName),
      `stream declaration ${path.join(sameName.dir, 'b.ts')}: declares the stream name "fx_quotes" that ${path.join(sameName.dir, 'a.ts')} declares already`,
    );
    const sameTopic = folder({
      'a.ts': fx({ name: 'fx_a', topic: 'fx' }),
      'b.ts': fx({ name: 'fx_b', topic: 'fx', raw: 'raw_b' }),
      'fx/pairs.ts': PAIRS,
    });
    assert.match(refusal(sameTopic), /b\.ts: declares the topic "fx" that .*a\.ts declares already$/);
    const builtInTopic = folder({ 'a.ts': fx({ name: 'my_ticks', topic: 'ticks' }), 'fx/pairs.ts': PAIRS });
    assert.match(refusal(builtInTopic), /a\.ts: declares the topic "ticks" that .*builtin.ticks\.(ts|js) declares already$/);
  });

  it('refuses a key that is not a declared column', () => {
    const f = folder({ 'fx.ts': fx({ key: 'quote_no' }), 'fx/pairs.ts': PAIRS });
    assert.match(refusal(f), /fx\.ts: stream fx_quotes: key quote_no is not a declared column$/);
    // The key may name a declared column.
    assert.equal(loadDeclarations(folder({ 'fx.ts': fx({ key: 'pair' }), 'fx/pairs.ts': PAIRS }).dir)[2]!.spec.keyColumn, 'pair');
  });

  it('refuses an unknown column type, listing the known ones', () => {
    const f = folder({ 'fx.ts': fx({ type: 'string' }), 'fx/pairs.ts': PAIRS });
    assert.match(refusal(f), /fx\.ts: stream fx_quotes: column pair has unknown type "string" \(known: smallint, integer, bigint/);
  });

  it('refuses a declaration that imports a module of the product other than etl-temporal/define', () => {
    const internal = path.join(PROJECT_ROOT, 'lib', 'sql');
    const f = folder({ 'fx.ts': `import { ident } from '${internal}';\nident('fx');\n${fx()}`, 'fx/pairs.ts': PAIRS });
    assert.equal(
      refusal(f),
      `stream declaration ${path.join(f.dir, 'fx.ts')}: imports "${internal}", a module of the product; a declaration imports the product only as "etl-temporal/define"`,
    );
    // Through a helper of the folder too.
    const viaHelper = folder({ 'fx.ts': fx(), 'fx/pairs.ts': `import '${internal}';\n${PAIRS}` });
    assert.match(refusal(viaHelper), /fx\.ts: imports ".*lib\/sql", a module of the product/);
  });

  it('refuses a module that exports no stream, an import that does not resolve, and a missing folder', () => {
    assert.match(refusal(folder({ 'x.ts': 'export const n = 1;\n' })), /x\.ts: exports no stream: export default defineStream/);
    assert.match(refusal(folder({ 'fx.ts': fx() })), /fx\.ts: cannot import: Cannot find module '\.\/fx\/pairs'/);
    assert.throws(
      () => loadDeclarations('/nonexistent/streams'),
      /stream declaration \/nonexistent\/streams: ETL_STREAMS_DIR does not exist$/,
    );
  });

  it('stops the CLI with that one line and exit 2, before any command runs', async () => {
    const f = folder({ 'fx.ts': fx({ type: 'money' }), 'fx/pairs.ts': PAIRS });
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        path.join(PROJECT_ROOT, 'bin', 'etl'),
        ['status'],
        { env: { ...process.env, ETL_STREAMS_DIR: f.dir } },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
    });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.split('\n').filter(Boolean); // bin/etl may say first that it rebuilds dist/
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    assert.equal(
      lines.at(-1),
      `error [STREAM_DECLARATION]: stream declaration ${path.join(f.dir, 'fx.ts')}: stream fx_quotes: column pair has unknown type "money" (known: smallint, integer, bigint, numeric(p,s), real, double precision, text, varchar(n), boolean, date, timestamp, timestamptz, uuid, jsonb)`,
    );
  });
});
