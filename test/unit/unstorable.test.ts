// Prevention before the COPY: ambiguous and unstorable JSON (streams/json-scan.ts), values the
// declared columns cannot hold (streams/storable.ts), and rules that throw (streams/classify.ts).
// The SQLSTATEs in the comments are what PostgreSQL 15 answered for the same values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BronzeRecord } from '../../lib/lake';
import { storablePayload, storableReason } from '../../activities/quarantine';
import { classifyRecord } from '../../streams/classify';
import { jsonHazard, MAX_DEPTH } from '../../streams/json-scan';
import { guardFor } from '../../streams/storable';
import { transactionsStream } from '../../streams/transactions';
import { syntheticTransaction } from '../../streams/transactions/generator';
import type { StreamSpec } from '../../streams/types';
import { defineStream } from '../../streams/define';
import { z } from 'zod';

// Fixed times: validation judges event times against the archive time recorded with the record.
const good = syntheticTransaction(3, { seed: 5, startMs: Date.UTC(2026, 0, 15, 12), windowMs: 3_600_000 });
const archived = { referenceTimeMs: Date.UTC(2026, 0, 15, 14) };
const text = (o: unknown) => JSON.stringify(o);
const record = (value: string): BronzeRecord => ({
  topic: 't',
  partition: 0,
  offset: '1',
  timestamp: '0',
  key: null,
  value,
  encoding: 'utf8',
});

describe('jsonHazard', () => {
  it('passes clean JSON, including escapes that are fine', () => {
    for (const t of [
      text(good),
      '{"a":{"b":1,"c":{"b":2}},"b":3}',
      '{"a":[{"x":1},{"x":2}]}',
      '{"a":"\\\\u0000"}',
      '{"a":"\\ud83d\\ude00"}',
      '{"a":"Caf\\u00e9"}',
      '{"a":1e300,"b":-0.5E-10,"c":123456789012345678901234567890}',
      '{"a\\"b":1,"ab":2}',
      `{"x":${'['.repeat(MAX_DEPTH - 1)}${']'.repeat(MAX_DEPTH - 1)}}`,
    ]) {
      assert.equal(jsonHazard(t), undefined, t);
    }
  });

  it('finds a field named twice, at any depth and however it is escaped', () => {
    const cases: [string, RegExp][] = [
      ['{"a":1,"a":2}', /^a is named twice/],
      ['{"a":1,"\\u0061":2}', /^a is named twice/],
      ['{"device":{"os":"ios","os":"android"}}', /^device\.os is named twice/],
      ['{"items":[{"x":1},{"x":2,"y":1,"x":3}]}', /^items\[1\]\.x is named twice/],
      [`{${Array.from({ length: 40 }, (_, i) => `"f${i}":${i}`).join(',')},"f39":0}`, /^f39 is named twice/],
    ];
    for (const [t, reason] of cases) {
      const h = jsonHazard(t);
      assert.equal(h?.code, 'DUPLICATE_FIELD', t);
      assert.match(h.reason, reason);
    }
  });

  it('finds what PostgreSQL cannot store or JSON.parse silently changes', () => {
    const cases: [string, RegExp][] = [
      ['{"merchant":"Carre\\u0000four"}', /^merchant: contains \\u0000 \(NUL\)/], // jsonb 22P05, text 22021
      ['{"note":{"deep":["ok","\\u0000"]}}', /^note\.deep\[1\]: contains \\u0000/],
      ['{"a\\u0000b":1}', /field name "a\\u0000… in \(root\): contains/],
      ['{"merchant":"\\ud800"}', /unpaired surrogate escape \(\\ud800\)/], // jsonb 22P02
      ['{"merchant":"\\ud800\\u0041"}', /unpaired surrogate/],
      ['{"merchant":"x\\udc00"}', /unpaired surrogate escape \(\\udc00\)/],
      ['{"amount":1e400}', /^amount: the number 1e400 is beyond the range of a double/],
      [`{"n":${'9'.repeat(400)}}`, /^n: the number 9{40}… is beyond/],
    ];
    for (const [t, reason] of cases) {
      const h = jsonHazard(t);
      assert.equal(h?.code, 'UNSTORABLE_VALUE', t);
      assert.match(h.reason, reason, t);
    }
    assert.equal(jsonHazard('{"a":"\ud800"}')?.code, 'UNSTORABLE_VALUE', 'a raw unpaired surrogate');
  });

  it('refuses nesting deeper than MAX_DEPTH (JSON.stringify overflows its stack at a few thousand)', () => {
    const deep = `{"x":${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}}`;
    assert.equal(jsonHazard(deep)?.code, 'TOO_DEEP');
    assert.throws(() => JSON.stringify(JSON.parse(`{"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`)), RangeError);
  });
});

describe('column guards', () => {
  const rejects = (type: string, value: unknown) => assert.ok(guardFor(type)!(value), `${type} should refuse ${JSON.stringify(value)}`);
  const accepts = (type: string, value: unknown) =>
    assert.equal(guardFor(type)!(value), undefined, `${type} should take ${JSON.stringify(value)}`);

  it('numeric(p,s): digits before the point after rounding (22003 numeric field overflow)', () => {
    for (const v of [9999999999.99, '9999999999.994', 0.001, '-12.5', 1e9, '1.5e3']) accepts('numeric(12,2)', v);
    for (const v of [1e10, '9999999999.995', '1e20', 'NaN', 'Infinity', 'abc', '']) rejects('numeric(12,2)', v);
    accepts('numeric(3,2)', 9.994);
    rejects('numeric(3,2)', 9.995);
  });

  it('integers: their ranges (22003 smallint out of range)', () => {
    accepts('smallint', 32767);
    rejects('smallint', 40000);
    accepts('bigint', '9223372036854775807');
    rejects('bigint', '9223372036854775808');
    rejects('integer', 1.5);
  });

  it('timestamps and dates: 4-digit years from 0001, real calendar dates (22008, 22009)', () => {
    for (const v of ['2026-11-23T10:00:00.000Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '2024-02-29T00:00:00+05:30'])
      accepts('timestamptz', v);
    for (const v of [
      '+010000-01-01T00:00:00.000Z',
      '0000-01-01T00:00:00.000Z',
      '-000001-01-01T00:00:00.000Z',
      '2023-02-29T00:00:00Z',
      '2026-11-23T25:00:00Z',
      'yesterday',
      5,
    ])
      rejects('timestamptz', v);
    accepts('date', '2024-02-29');
    for (const v of ['2024-02-30', '+10000-01-01', '0000-01-01', '0099-13-01']) rejects('date', v);
  });

  it('text: no NUL, no unpaired surrogate, and the declared length (22021)', () => {
    accepts('text', 'Carrefour é 😀');
    rejects('text', 'Carre\0four');
    rejects('text', 'x\ud800');
    accepts('varchar(3)', '😀😀😀');
    rejects('varchar(3)', 'abcd');
  });

  it('leaves types it has no rules for to the load', () => {
    assert.equal(guardFor('inet'), undefined);
  });
});

describe('classifyRecord', () => {
  it('quarantines what passed validation as it was but PostgreSQL would refuse', () => {
    const cases: [string, string, string][] = [
      ['NUL in a text column', text({ ...good, merchant: 'Carre\0four' }), 'UNSTORABLE_VALUE'],
      ['NUL in an extra field (jsonb)', text({ ...good, note: 'a\0b' }), 'UNSTORABLE_VALUE'],
      ['an unpaired surrogate in the merchant', text({ ...good, merchant: 'Fnac\ud800' }), 'UNSTORABLE_VALUE'],
      ['a number beyond a double in an extra field', text(good).replace(/}$/, ',"score":1e999}'), 'UNSTORABLE_VALUE'],
      ['amount named twice', text(good).replace(/}$/, ',"amount":999.99}'), 'DUPLICATE_FIELD'],
      [
        'a nested value where a scalar belongs, too deep',
        text({ ...good, extra: JSON.parse(`${'['.repeat(50)}${']'.repeat(50)}`) as unknown }),
        'TOO_DEEP',
      ],
    ];
    for (const [name, value, code] of cases) {
      const r = classifyRecord(transactionsStream, record(value), archived);
      assert.equal(r.ok ? 'loaded' : r.code, code, name);
    }
    assert.equal(classifyRecord(transactionsStream, record(text(good)), archived).ok, true, 'the event itself is valid');
  });

  it('refuses an amount below a cent, which would be stored as 0.00 against the CHECK amount > 0', () => {
    for (const amount of [5e-324, 1e-9, 0.004]) {
      const r = transactionsStream.validate({ ...good, amount }, archived);
      assert.equal(r.ok ? 'ok' : r.code, 'INVALID_VALUE', String(amount));
    }
    assert.equal(transactionsStream.validate({ ...good, amount: 0.01 }, archived).ok, true);
  });

  it('checks the row the enrichment made against the declared columns of any stream', () => {
    const declared = defineStream({
      name: 'guarded',
      schema: z.looseObject({ id: z.uuid(), n: z.number(), at: z.string(), note: z.string().optional() }),
      enrich: (e) => ({ id: e.id, n: e.n, at: e.at, note: e.note ?? null }),
      rawTable: 'raw_guarded',
      flatTable: 'guarded_flat',
      key: { name: 'id', type: 'uuid' },
      eventTimeColumn: 'at',
      columns: [
        { name: 'n', type: 'numeric(4,2)' },
        { name: 'at', type: 'timestamptz' },
        { name: 'note', type: 'text', notNull: true },
      ],
    });
    const base = { id: '6f1c2d3e-4a5b-4c6d-8e7f-901234567890', n: 12.5, at: '2026-01-01T00:00:00Z', note: 'x' };
    const reasons = [base, { ...base, note: undefined }, { ...base, n: 123.5 }, { ...base, at: '+010000-01-01T00:00:00.000Z' }].map((v) => {
      const r = declared.validate(v, archived);
      return r.ok ? 'ok' : r.reason;
    });
    assert.deepEqual(reasons, [
      'ok',
      'note: is null, and the column is declared not null',
      'n: 123.5 does not fit numeric(4,2) (at most 2 digits before the point)',
      'at: "+010000-01-01T00:00:00.000Z" is not an ISO-8601 timestamp with a year between 0001 and 9999',
    ]);
    const r = transactionsStream.validate({ ...good, merchant: 'A\0' }, archived);
    assert.deepEqual(r.ok ? 'ok' : [r.code, r.reason], [
      'UNSTORABLE_VALUE',
      'merchant: "A\\u0000" contains NUL (U+0000), which PostgreSQL text cannot hold',
    ]);
  });

  it('quarantines a record on which the rules throw, instead of failing its object', () => {
    const throwing: StreamSpec = {
      ...transactionsStream,
      validate: () => {
        throw new TypeError('enrichment bug');
      },
    };
    const r = classifyRecord(throwing, record(text(good)), archived);
    assert.deepEqual(r.ok ? 'ok' : [r.code, r.reason], [
      'ENRICH_FAILED',
      "the stream's rules threw on this record: TypeError: enrichment bug",
    ]);
  });
});

describe('quarantine rows', () => {
  it('keep a payload with a NUL byte as base64 of its exact bytes, and escape NUL in reasons', () => {
    const raw = '{"a":"x\0y"}';
    const stored = storablePayload(raw, 'utf8');
    assert.equal(stored.encoding, 'base64');
    assert.equal(Buffer.from(stored.payload!, 'base64').toString('utf8'), raw);
    assert.deepEqual(storablePayload('{"a":1}', 'utf8'), { payload: '{"a":1}', encoding: 'utf8' });
    assert.equal(storableReason('bad \0 here'), 'bad \\u0000 here');
  });
});
