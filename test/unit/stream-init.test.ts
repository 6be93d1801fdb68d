// `etl stream init` without servers: what a sample infers (each type, required or not, closed
// vocabularies, the key, the event time), that the module it renders is formatted, linted and
// typechecked as the project's own code, and that the stream it declares — built directly, and
// loaded from the rendered module — passes every record it was inferred from.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isEtlError } from '../../lib/errors';
import { classifyRecord } from '../../streams/classify';
import { draftStream, type DraftField, type StreamDraft } from '../../streams/draft';
import { columnName, inferDraft, parseSampleJson } from '../../streams/infer';
import { quote, renderDeclaration } from '../../streams/render';
import type { StreamSpec } from '../../streams/types';
import { linkDefine, loadDeclaration } from '../support/declaration-shim';
import { formatted, lintTree, type LintTree } from '../support/lint-probe';

const json = (lines: readonly object[]) => lines.map((l) => JSON.stringify(l));
const infer = (lines: readonly string[], cells = false, name = 'orders') =>
  inferDraft(
    lines.map((l) => (cells ? JSON.parse(l) : parseSampleJson(l)) as Record<string, unknown>),
    { name, source: 'sample', cells },
  );
const field = (d: StreamDraft, name: string): DraftField => {
  const f = d.fields.find((x) => x.field === name);
  assert.ok(f, `field ${name} is in the draft`);
  return f;
};
const at = (i: number) => new Date(Date.UTC(2026, 10, 20, 8, 0, i)).toISOString();
const uuid = (i: number) => `2c5ea4c0-4067-11e9-8bad-${String(i).padStart(12, '0')}`;

/** Every line through the stream's own rules, as the transform classifies a record: the codes of those it would quarantine. */
function quarantined(spec: StreamSpec, lines: readonly string[]): string[] {
  return lines.flatMap((value, i) => {
    const r = classifyRecord(
      spec,
      { topic: 't', partition: 0, offset: String(i), timestamp: '0', key: null, value, encoding: 'utf8' },
      { referenceTimeMs: 0 },
    );
    return r.ok ? [] : [`${r.code}: ${r.reason}`];
  });
}

// One sample with every kind: 60 records.
const RICH = json(
  Array.from({ length: 60 }, (_, i) => ({
    order_id: uuid(i),
    seq: i + 1,
    big: 3_000_000_000 + i,
    amount: { text: i % 2 ? `${i}.50` : `${i}.25` }, // replaced below by a JSON number with its scale
    fee: `${i}.125`,
    rate: 1.5e-3 * (i + 1),
    paid: i % 2 === 0,
    status: ['paid', 'pending', 'cancelled'][i % 3],
    channel: i === 7 ? 'phone' : ['web', 'app'][i % 2],
    customer: `customer ${i}`,
    placed_at: at(i),
    shipped_on: '2026-11-21',
    local_time: '2026-11-20 09:00:00',
    meta: { source: 'x', n: i },
    mixed: i % 2 ? 'text' : 5,
    note: i % 3 ? `note ${i}` : null,
    coupon: i % 4 ? undefined : 'SAVE10',
    'Order Ref': `R-${i}`,
    legacy: `2c5ea4c0-4067-01e9-0bad-${String(i).padStart(12, '0')}`,
  })),
).map((l) => l.replace(/\{"text":"([\d.]+)"\}/, '$1'));

describe('etl stream init: inference', () => {
  const d = infer(RICH);

  it('types each field by what the sample holds', () => {
    const types = Object.fromEntries(d.fields.map((f) => [f.field, [f.kind, f.sqlType]]));
    assert.deepEqual(types, {
      order_id: ['uuid', 'uuid'],
      seq: ['integer', 'integer'],
      big: ['integer', 'bigint'],
      amount: ['decimal', 'numeric(18,2)'],
      fee: ['decimal_text', 'numeric(18,3)'],
      rate: ['float', 'double precision'],
      paid: ['boolean', 'boolean'],
      status: ['text', 'text'],
      channel: ['text', 'text'],
      customer: ['text', 'text'],
      placed_at: ['timestamptz', 'timestamptz'],
      shipped_on: ['date', 'date'],
      local_time: ['local_time', 'text'],
      meta: ['json', 'jsonb'],
      mixed: ['json', 'jsonb'],
      note: ['text', 'text'],
      coupon: ['text', 'text'],
      'Order Ref': ['text', 'text'],
      legacy: ['uuid', 'uuid'],
    });
    assert.equal(field(d, 'order_id').strictUuid, true);
    assert.equal(field(d, 'legacy').strictUuid, false, 'not an RFC 9562 UUID: z.guid()');
    assert.match(field(d, 'local_time').note ?? '', /without an offset: kept as text/);
    assert.match(field(d, 'mixed').note ?? '', /more than one JSON type/);
  });

  it('keeps the scale a decimal was written with, which JSON.parse drops (12.50 is 12.5)', () => {
    const scaled = infer(json([{ id: 1, t: at(0), price: 0 }]).map((l) => l.replace('"price":0', '"price":12.50')));
    assert.equal(field(scaled, 'price').sqlType, 'numeric(18,2)');
    const wide = infer(json([{ id: 1, t: at(0), price: '1234567890123456.25' }]));
    assert.equal(field(wide, 'price').sqlType, 'numeric(21,2)', 'room for three more digits than seen');
    const double = infer(json([{ id: 1, t: at(0), ratio: 0.1 * 3 }]));
    assert.equal(field(double, 'ratio').sqlType, 'double precision', "0.30000000000000004 is a double's text, not a decimal of scale 17");
  });

  it('requires the fields present and not null in every record, and only those', () => {
    const required = d.fields.filter((f) => f.required).map((f) => f.field);
    assert.ok(required.includes('order_id') && required.includes('placed_at'));
    assert.equal(field(d, 'note').required, false, 'null in some records');
    assert.equal(field(d, 'coupon').required, false, 'absent from some records');
  });

  it('offers a closed vocabulary as accepted values when every value was seen often, as a comment when one was rare', () => {
    assert.deepEqual(field(d, 'status').vocabulary?.values, ['cancelled', 'paid', 'pending']);
    assert.equal(field(d, 'status').vocabulary?.sure, true);
    assert.deepEqual(field(d, 'channel').vocabulary?.values, ['app', 'phone', 'web']);
    assert.equal(field(d, 'channel').vocabulary?.sure, false, 'phone was seen once');
    assert.equal(field(d, 'customer').vocabulary, undefined, 'every value distinct: no vocabulary');
    const spec = draftStream(d);
    assert.deepEqual(spec.acceptedValues, [{ column: 'status', values: ['cancelled', 'paid', 'pending'] }]);
  });

  it('picks the key among the fields unique and present everywhere (a uuid first), and an integer key is a bigint', () => {
    assert.deepEqual(d.key, {
      field: 'order_id',
      note: 'order_id: present and unique in all 60 sampled records; also unique: legacy, seq, big, customer, Order Ref',
    });
    const byNumber = infer(json(Array.from({ length: 5 }, (_, i) => ({ reading_no: i, t: at(i), kind: 'a' }))));
    assert.deepEqual(byNumber.key, { field: 'reading_no', note: 'reading_no: present and unique in all 5 sampled records' });
    assert.equal(field(byNumber, 'reading_no').sqlType, 'bigint', 'a key grows past what the sample showed');
  });

  it('chooses no key when no field is unique and present everywhere, and says so: the key is then a digest', () => {
    const lines = json(Array.from({ length: 6 }, (_, i) => ({ sensor: ['a', 'b'][i % 2], t: at(i % 3), id: i % 5 ? i : undefined })));
    const none = infer(lines);
    assert.ok('digestColumn' in none.key);
    assert.equal(none.key.digestColumn, 'record_id');
    assert.match(none.key.note, /no field was present and unique in all 6 sampled records/);
    const spec = draftStream(none);
    assert.deepEqual([spec.keyColumn, spec.keyType], ['record_id', 'text']);
    assert.deepEqual(quarantined(spec, lines), []);
    assert.match(renderDeclaration(none), /\/\/ The key: no field was present and unique/);
  });

  it('takes a timestamp with an offset as the event time, and refuses a sample with none (a local time is never guessed)', () => {
    assert.equal(d.eventTime, 'placed_at');
    const local = json([{ id: 1, at: '2026-11-20T09:00:00' }]);
    assert.throws(
      () => infer(local),
      (err: unknown) =>
        isEtlError(err) &&
        err.code === 'USAGE' &&
        /no field holds a timestamp with an offset/.test(err.message) &&
        /at has times without an offset/.test(err.message),
    );
    const sometimes = json([{ id: 1, t: at(1) }, { id: 2 }]);
    assert.throws(() => infer(sometimes), /t is missing in some records/);
  });

  it('reads CSV cells by their text as the file source types them: 007 stays text, TRUE is a boolean', () => {
    const rows = Array.from({ length: 4 }, (_, i) =>
      JSON.stringify({
        id: String(i),
        zip: `00${i}`,
        price: `${i}.50`,
        ok: i % 2 ? 'TRUE' : 'false',
        t: at(i),
        huge: `9${'0'.repeat(20)}`,
      }),
    );
    const c = infer(rows, true);
    const kinds = Object.fromEntries(c.fields.map((f) => [f.field, f.sqlType]));
    assert.deepEqual(kinds, {
      id: 'bigint',
      zip: 'text',
      price: 'numeric(18,2)',
      ok: 'boolean',
      t: 'timestamptz',
      huge: 'numeric(24,0)',
    });
    assert.equal(field(c, 'huge').kind, 'decimal_text', 'beyond a double: kept as exact text');
  });

  it('names columns as plain SQL identifiers, clear of the tables own columns', () => {
    const taken = new Set<string>(['order_id']);
    assert.equal(columnName('orderId', taken), 'order_id_2');
    assert.equal(columnName('Order Ref', new Set()), 'order_ref');
    assert.equal(columnName('payload', new Set()), 'payload_value');
    assert.equal(columnName('1st', new Set()), 'f_1st');
    assert.equal(columnName('ümlaut', new Set()), 'mlaut');
    assert.equal(columnName('***', new Set()), 'field');
  });

  it('the stream it declares passes every record of its sample', () => {
    assert.deepEqual(quarantined(draftStream(d), RICH), []);
  });
});

describe('etl stream init: the rendered module', () => {
  const d = infer(RICH);
  const text = renderDeclaration(d);
  let tree: LintTree;
  before(() => (tree = lintTree()));
  after(() => tree.remove());

  it('is formatted as Prettier formats it with the project settings', async () => {
    assert.equal(await formatted(text), text);
    // Long vocabularies and odd names too.
    const wide = infer(
      json(
        Array.from({ length: 40 }, (_, i) => ({
          "it's": `${'a long value of a closed vocabulary '.repeat(1)}${i % 10}`,
          'a "quoted" name': 'x',
          id: i,
          t: at(i),
        })),
      ),
    );
    const wideText = renderDeclaration(wide);
    assert.match(wideText, /acceptedValues: \[\n/, 'a vocabulary too long for a line is one value per line');
    assert.equal(await formatted(wideText), wideText);
  });

  it("passes the project's lint and typechecks", async () => {
    const sources = [
      text,
      renderDeclaration(
        infer(
          json([
            { a: 1, t: at(0) },
            { a: 1, t: at(0) },
          ]),
        ),
      ),
    ];
    assert.deepEqual(await tree.problems(sources), []);
  });

  it('declares, loaded from a folder of its own, the very stream the draft builds', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'etl-init-unit-'));
    try {
      await linkDefine(dir);
      const file = path.join(dir, 'orders.ts');
      await writeFile(file, text);
      const loaded = await loadDeclaration(file);
      const built = draftStream(d);
      assert.deepEqual(quarantined(loaded, RICH), []);
      const withoutRules = (spec: StreamSpec) => ({ ...spec, validate: undefined });
      assert.deepEqual(withoutRules(loaded), withoutRules(built));
      // Both give the same rows.
      for (const line of RICH.slice(0, 5)) {
        const ctx = { referenceTimeMs: 0 };
        assert.deepEqual(loaded.validate(JSON.parse(line), ctx), built.validate(JSON.parse(line), ctx));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('quotes strings as Prettier does', () => {
    assert.equal(quote('plain'), "'plain'");
    assert.equal(quote("it's"), '"it\'s"');
    assert.equal(quote('say "hi"'), '\'say "hi"\'');
    assert.equal(quote('back\\slash\n'), "'back\\\\slash\\n'");
  });
});
