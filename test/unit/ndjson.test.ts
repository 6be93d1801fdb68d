// The bronze writer's bytes, without S3: each codec round-trips every line (chunking must neither
// drop nor split lines), and the magic bytes tell the codecs apart.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { codecOfBytes, ndjsonExtension, NdjsonObjectBuffer, NDJSON_CODECS } from '../../lib/ndjson';

const lines = [
  ...Array.from({ length: 3_000 }, (_, i) => JSON.stringify({ offset: String(i), value: `é-${'x'.repeat(i % 300)}` })),
  JSON.stringify({ offset: '3000', value: 'y'.repeat(200_000) }), // one line over the chunk size
  JSON.stringify({ offset: '3001', value: 'last' }),
];

describe('bronze writer (NdjsonObjectBuffer)', () => {
  for (const codec of NDJSON_CODECS) {
    it(`${codec}: every line, in order, once, readable by the codec's own decompressor`, async () => {
      const b = new NdjsonObjectBuffer(codec);
      for (const l of lines) await b.write(l);
      assert.equal(b.lines, lines.length);
      const body = await b.finish();
      assert.equal(codecOfBytes(body), codec);
      const text = (codec === 'zstd' ? zstdDecompressSync(body) : gunzipSync(body)).toString('utf8');
      assert.equal(text, lines.join('\n') + '\n');
    });

    it(`${codec}: an object without lines is still a valid, empty one`, async () => {
      const body = await new NdjsonObjectBuffer(codec).finish();
      assert.equal(codecOfBytes(body), codec);
      assert.equal((codec === 'zstd' ? zstdDecompressSync(body) : gunzipSync(body)).length, 0);
    });
  }

  it('tells gzip from zstd by the first bytes, and neither from plain text', () => {
    assert.equal(codecOfBytes(Buffer.from([0x1f, 0x8b, 0x08, 0x00])), 'gzip');
    assert.equal(codecOfBytes(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
    assert.equal(codecOfBytes(Buffer.from('{"offset"')), undefined);
    assert.equal(codecOfBytes(Buffer.alloc(0)), undefined);
    assert.deepEqual(
      NDJSON_CODECS.map((c) => ndjsonExtension(c)),
      ['.ndjson.gz', '.ndjson.zst'],
    );
  });
});
