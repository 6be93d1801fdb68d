import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bronzeKey, encodeValue, lakeKeyFor } from '../../lib/lake';

describe('lake layout', () => {
  it('names a bronze object by time partition, topic, partition and zero-padded offsets', () => {
    const key = bronzeKey({
      prefix: 'p/',
      topic: 'transactions',
      partition: 2,
      first: 0n,
      last: 49_999n,
      firstRecordTimeMs: Date.parse('2026-11-22T13:05:00Z'),
      codec: 'gzip',
    });
    assert.equal(key, 'p/bronze/transactions/dt=2026-11-22/hour=13/transactions+2+0000000000000000000-0000000000000049999.ndjson.gz');
    assert.equal(
      lakeKeyFor('p/', 'transactions', key, '2026-11-21'),
      'p/silver/transactions/event_date=2026-11-21/transactions+2+0000000000000000000-0000000000000049999.parquet',
    );
  });

  it('names a zstd bronze object .ndjson.zst, and its lake files after it, per stream and event date', () => {
    const key = bronzeKey({
      prefix: '',
      topic: 'transactions',
      partition: 0,
      first: 0n,
      last: 9n,
      firstRecordTimeMs: Date.parse('2026-11-22T13:05:00Z'),
      codec: 'zstd',
    });
    assert.equal(key, 'bronze/transactions/dt=2026-11-22/hour=13/transactions+0+0000000000000000000-0000000000000000009.ndjson.zst');
    assert.equal(
      lakeKeyFor('', 'trades', key, '2026-11-22'),
      'silver/trades/event_date=2026-11-22/transactions+0+0000000000000000000-0000000000000000009.parquet',
    );
    assert.throws(() => lakeKeyFor('', 'trades', key, '2026-11-22T00'), /not an event date/);
    assert.throws(() => lakeKeyFor('', 'trades', 'silver/x.parquet', '2026-11-22'), /not a bronze key/);
  });

  it('keys sort in offset order', () => {
    const t = Date.parse('2026-11-22T13:05:00Z');
    const keys = [
      bronzeKey({ prefix: '', topic: 't', partition: 0, first: 100n, last: 199n, firstRecordTimeMs: t, codec: 'zstd' }),
      bronzeKey({ prefix: '', topic: 't', partition: 0, first: 9n, last: 99n, firstRecordTimeMs: t, codec: 'zstd' }),
      bronzeKey({ prefix: '', topic: 't', partition: 0, first: 1000n, last: 1999n, firstRecordTimeMs: t, codec: 'zstd' }),
    ];
    assert.deepEqual([...keys].sort(), [keys[1], keys[0], keys[2]]);
  });

  it('keeps UTF-8 values as text and anything else as base64, nulls as null', () => {
    assert.deepEqual(encodeValue(Buffer.from('{"a":"é"}')), { value: '{"a":"é"}', encoding: 'utf8' });
    assert.deepEqual(encodeValue(Buffer.from([0xff, 0xfe, 0x41])), {
      value: Buffer.from([0xff, 0xfe, 0x41]).toString('base64'),
      encoding: 'base64',
    });
    assert.deepEqual(encodeValue(null), { value: null, encoding: 'null' });
  });
});
