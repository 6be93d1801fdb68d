// Schema drift, the pure parts: which fields of a record a stream does not declare, how a load
// tallies them (bounded whatever arrives), and what a declaration's undeclaredFields makes of such
// a record: loaded with the fields kept in the raw payload, or quarantined as UNDECLARED_FIELD.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import type { BronzeRecord } from '../../lib/lake';
import { transactionsStream } from '../../streams/transactions';
import { classifyRecord } from '../../streams/classify';
import { defineStream, type StreamDeclaration } from '../../streams/define';
import { DriftTally, MAX_DRIFT_FIELDS, MAX_FIELD_NAME_CHARS, undeclaredFieldsOf, undeclaredReason } from '../../streams/drift';

const quote = { quote_id: 7, pair: 'EURUSD', bid: 1.0712, at: '2026-11-20T08:00:00Z' };

function fx(over: Partial<StreamDeclaration<{ quote_id: number; pair: string; bid: number; at: string }>> = {}) {
  return defineStream({
    name: 'fx_quotes',
    schema: z.looseObject({ quote_id: z.number().int(), pair: z.enum(['EURUSD', 'USDJPY']), bid: z.number(), at: z.iso.datetime() }),
    enrich: (q) => ({ quote_id: q.quote_id, pair: q.pair, bid: q.bid.toFixed(5), at: q.at }),
    rawTable: 'raw_fx_quotes',
    flatTable: 'fx_quotes_flat',
    key: { name: 'quote_id', type: 'bigint' },
    eventTimeColumn: 'at',
    columns: [
      { name: 'pair', type: 'text', notNull: true },
      { name: 'bid', type: 'numeric(12,5)', notNull: true },
      { name: 'at', type: 'timestamptz', notNull: true },
    ],
    ...over,
  });
}

const record = (value: string, offset = 0): BronzeRecord => ({
  topic: 'fx_quotes',
  partition: 0,
  offset: String(offset),
  timestamp: '0',
  key: null,
  value,
  encoding: 'utf8',
});
const context = { referenceTimeMs: Date.UTC(2026, 10, 21) };

describe('undeclared fields', () => {
  it("are the record's fields its schema does not name, in the record's order", () => {
    const spec = fx();
    assert.deepEqual([...spec.declaredFields!].sort(), ['at', 'bid', 'pair', 'quote_id']);
    assert.equal(undeclaredFieldsOf(spec, quote), undefined);
    assert.deepEqual(undeclaredFieldsOf(spec, { venue: 'lmax', ...quote, meta: {} }), ['venue', 'meta']);
    assert.deepEqual(undeclaredFieldsOf(spec, JSON.parse('{"__proto__": 1, "quote_id": 1}') as object), ['__proto__']);
  });

  it('are none for a schema that names no fields', () => {
    const spec = fx({ schema: z.record(z.string(), z.unknown()) as never });
    assert.equal(spec.declaredFields, undefined);
    assert.equal(undeclaredFieldsOf(spec, { anything: 1 }), undefined);
  });

  it("of the built-in transactions are its schema's fields", () => {
    assert.ok(transactionsStream.declaredFields?.has('merchant'));
    assert.equal(transactionsStream.undeclaredFields, 'keep');
  });
});

describe("a declaration's undeclaredFields", () => {
  const extra = JSON.stringify({ ...quote, venue: 'lmax', meta: { feed: 'a' } });

  it('keep (the default): the record loads, its extra fields in the raw payload, and they are named', () => {
    const r = classifyRecord(fx(), record(extra), context);
    assert.equal(r.ok, true);
    assert.deepEqual(r.undeclared, ['venue', 'meta']);
    assert.deepEqual(r.ok && r.row.payload, JSON.parse(extra));
  });

  it('quarantine: the record is UNDECLARED_FIELD, the reason naming the fields', () => {
    const r = classifyRecord(fx({ undeclaredFields: 'quarantine' }), record(extra), context);
    assert.deepEqual(r, {
      ok: false,
      code: 'UNDECLARED_FIELD',
      reason: `2 fields not declared by the stream's schema: "venue", "meta" (its declaration says undeclaredFields: 'quarantine')`,
      undeclared: ['venue', 'meta'],
    });
    assert.equal(classifyRecord(fx({ undeclaredFields: 'quarantine' }), record(JSON.stringify(quote)), context).ok, true);
  });

  it("quarantine: a record that breaks a rule too gets the rule's code (it would not load with its fields declared)", () => {
    const r = classifyRecord(fx({ undeclaredFields: 'quarantine' }), record(JSON.stringify({ ...quote, pair: 'XXX', venue: 1 })), context);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, 'UNKNOWN_VALUE');
    assert.deepEqual(r.undeclared, ['venue']);
  });

  it('names no field of a record that is no storable JSON object', () => {
    for (const value of ['{"quote_id": 7,', '[1]', '{"a": 1, "a": 2}'])
      assert.equal(classifyRecord(fx(), record(value), context).undeclared, undefined);
  });

  it('is refused when it is neither keep nor quarantine, or quarantines for a schema that names no fields', () => {
    assert.throws(
      () => fx({ undeclaredFields: 'drop' as never }),
      /stream fx_quotes: undeclaredFields must be 'keep' or 'quarantine', not "drop"/,
    );
    assert.throws(
      () => fx({ schema: z.record(z.string(), z.unknown()) as never, undeclaredFields: 'quarantine' }),
      /stream fx_quotes: undeclaredFields 'quarantine' needs a schema that lists its fields/,
    );
  });

  it('names at most ten fields in a reason, and counts the others', () => {
    const names = Array.from({ length: 12 }, (_, i) => `f${i}`);
    assert.match(undeclaredReason(names), /^12 fields not declared by the stream's schema: "f0", .*"f9" and 2 more \(/);
  });
});

describe('the drift tally of one load', () => {
  it('counts the records carrying each field, where it was first seen, and every record carrying any', () => {
    const tally = new DriftTally();
    tally.add(['venue'], { partition: 1, offset: '40' });
    tally.add(['meta', 'venue'], { partition: 0, offset: '12' });
    tally.add(['venue'], { partition: 1, offset: '41' });
    assert.deepEqual(tally.result(), {
      fields: [
        { field: 'venue', records: 3, firstPartition: 1, firstOffset: '40' },
        { field: 'meta', records: 1, firstPartition: 0, firstOffset: '12' },
      ],
      records: 3,
    });
    assert.deepEqual(new DriftTally().result(), { fields: [], records: 0 });
  });

  it(`tracks at most ${MAX_DRIFT_FIELDS} fields by name, and still counts every record carrying others`, () => {
    const tally = new DriftTally();
    for (let i = 0; i < 5_000; i++) tally.add([`random_${i}`], { partition: 0, offset: String(i) });
    const { fields, records } = tally.result();
    assert.equal(fields.length, MAX_DRIFT_FIELDS);
    assert.equal(records, 5_000);
    assert.equal(fields.at(-1)!.field, `random_${MAX_DRIFT_FIELDS - 1}`);
  });

  it(`keeps ${MAX_FIELD_NAME_CHARS} characters of a name, whole code points, and counts two names cut alike once per record`, () => {
    const long = '😀'.repeat(MAX_FIELD_NAME_CHARS + 50);
    const tally = new DriftTally();
    tally.add([`${long}a`, `${long}b`], { partition: 0, offset: '0' });
    const [f] = tally.result().fields;
    assert.equal(f!.records, 1);
    assert.equal(Array.from(f!.field).length, MAX_FIELD_NAME_CHARS + 1);
    assert.ok(f!.field.endsWith('…'));
    assert.doesNotMatch(f!.field, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/, 'no lone surrogate');
  });

  it('is a function of the bytes: the same records give the same tally', () => {
    const values = [extraOf(1), extraOf(2), JSON.stringify(quote), extraOf(3)];
    const tallyOf = () => {
      const tally = new DriftTally();
      values.forEach((v, i) => {
        const r = classifyRecord(fx(), record(v, i), context);
        if (r.undeclared) tally.add(r.undeclared, { partition: 0, offset: String(i) });
      });
      return tally.result();
    };
    assert.deepEqual(tallyOf(), tallyOf());
    assert.deepEqual(
      tallyOf().fields.map((f) => [f.field, f.records]),
      [
        ['venue', 3],
        ['seq', 3],
      ],
    );
  });
});

function extraOf(seq: number): string {
  return JSON.stringify({ ...quote, quote_id: seq, venue: 'lmax', seq });
}
