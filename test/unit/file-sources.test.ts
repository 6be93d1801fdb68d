// File sources without servers: format detection, CSV typing by the stream's schema, and how lines
// become records (quoted newlines, wrong cell counts, broken quotes, bytes that are not UTF-8).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { formatOfName, isGzip } from '../../activities/files/format';
import { fileBytes } from '../../activities/files/read';
import { csvRecords, jsonlRecords, KEPT_BYTES, MAX_LINE_BYTES, readLines, type FileRecord } from '../../activities/files/records';
import type { EtlError } from '../../lib/errors';
import { parseLocation, walkOrder } from '../../lib/files';
import { getStream } from '../../streams';
import { csvRowObject, headerProblem, typeCell } from '../../streams/csv';

const transactions = getStream('transactions');
const collect = async (it: AsyncIterable<FileRecord>) => {
  const out: FileRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
};
const bytes = (...parts: (string | number[])[]) => [
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)))),
];

describe('file format detection', () => {
  it('reads the format from the extension, gzip from .gz or the bytes', () => {
    assert.deepEqual(formatOfName('a.jsonl'), { format: 'jsonl', compression: 'none' });
    assert.deepEqual(formatOfName('A.NDJSON.GZ'), { format: 'jsonl', compression: 'gzip' });
    assert.deepEqual(formatOfName('export.csv.gz'), { format: 'csv', compression: 'gzip' });
    assert.deepEqual(formatOfName('notes.txt'), { format: undefined, compression: 'none' });
    assert.deepEqual(formatOfName('data.json'), { format: undefined, compression: 'none' });
    assert.equal(isGzip(Buffer.from([0x1f, 0x8b, 8])), true);
    assert.equal(isGzip(Buffer.from('{"a":1}')), false);
  });

  it('parses locations: s3://bucket/prefix, absolute paths, globs; refuses relative ones', () => {
    assert.deepEqual(parseLocation('s3://landing/transactions/'), { kind: 's3', bucket: 'landing', prefix: 'transactions/' });
    assert.deepEqual(parseLocation('/data/in'), { kind: 'local', path: '/data/in', glob: false });
    assert.deepEqual(parseLocation('/data/*.csv'), { kind: 'local', path: '/data/*.csv', glob: true });
    assert.throws(() => parseLocation('data/in'), /not an absolute path/);
    assert.throws(() => parseLocation('s3://A_B/x'), /does not name an S3 bucket/);
  });
});

describe('CSV typing', () => {
  it('knows what the transactions schema accepts per column', () => {
    assert.deepEqual([...transactions.inputTypes!.amount!].sort(), ['number', 'string']);
    assert.deepEqual(transactions.inputTypes!.merchant, ['string']);
  });

  it('hands a column over as the type the schema accepts, keeping text where text is accepted', () => {
    assert.equal(typeCell({ text: '12.50', quoted: false }, ['number', 'string']), '12.50');
    assert.equal(typeCell({ text: '12.50', quoted: false }, ['number']), 12.5);
    assert.equal(typeCell({ text: '-3e2', quoted: false }, ['integer']), -300);
    assert.equal(typeCell({ text: '1,5', quoted: false }, ['number']), '1,5');
    assert.equal(typeCell({ text: '+5', quoted: false }, ['number']), '+5');
    assert.equal(typeCell({ text: 'TRUE', quoted: false }, ['boolean']), true);
    assert.deepEqual(typeCell({ text: '{"a":1}', quoted: true }, ['object']), { a: 1 });
    assert.equal(typeCell({ text: '123', quoted: false }, ['string']), '123');
    assert.equal(typeCell({ text: '2026-11-22T13:05:00Z', quoted: false }, ['string']), '2026-11-22T13:05:00Z');
  });

  it('reads an empty cell as a missing field and a quoted empty cell as the empty string', () => {
    assert.equal(typeCell({ text: '', quoted: false }, ['string']), undefined);
    assert.equal(typeCell({ text: '', quoted: true }, ['string']), '');
    assert.deepEqual(
      csvRowObject(
        transactions,
        ['amount', 'merchant', 'extra'],
        [
          { text: '', quoted: false },
          { text: '', quoted: true },
          { text: '7', quoted: false },
        ],
      ),
      { merchant: '', extra: '7' },
    );
  });

  it('refuses headers that cannot name columns', () => {
    assert.equal(headerProblem(['a', 'b']), undefined);
    assert.match(headerProblem(['a', 'a'])!, /named twice/);
    assert.match(headerProblem(['a', ' '])!, /no name/);
  });
});

describe('file records', () => {
  it('JSONL: one record per line, blank lines skipped, CRLF and a BOM dropped, non-UTF-8 kept as base64', async () => {
    const records = await collect(jsonlRecords(readLines(bytes('\uFEFF{"a":1}\r\n\n  \n{"b":', [0xff], '}\n{"c":3}'))));
    assert.deepEqual(
      records.map((r) => [r.line, r.value, r.encoding]),
      [
        [1, '{"a":1}', 'utf8'],
        [4, Buffer.from([0x7b, 0x22, 0x62, 0x22, 0x3a, 0xff, 0x7d]).toString('base64'), 'base64'],
        [5, '{"c":3}', 'utf8'],
      ],
    );
  });

  it('a line longer than the bound is a TOO_LARGE record with its first bytes kept', async () => {
    const records = await collect(jsonlRecords(readLines([Buffer.alloc(MAX_LINE_BYTES + 10, 0x61), Buffer.from('\n{"ok":1}\n')])));
    assert.equal(records.length, 2);
    assert.equal(records[0]!.defect?.code, 'TOO_LARGE');
    assert.equal(records[0]!.value!.length, 64 * 1024);
    assert.equal(records[1]!.line, 2);
  });

  it('CSV: rows by header, quoted newlines span lines, a bad row costs only itself', async () => {
    const text = ['id,amount,merchant', '1,2.5,"a ""b"", c', 'd"', '2,3', '3,"x"y,z', '4,5,"open', '5,6,w', ''].join('\n');
    const records = await collect(csvRecords(readLines(bytes(text)), { inputTypes: { amount: ['number'] } }));
    assert.deepEqual(
      records.map((r) => [r.line, r.endLine, r.defect?.code ?? JSON.parse(r.value!)]),
      [
        [2, 3, { id: '1', amount: 2.5, merchant: 'a "b", c\nd' }],
        [4, 4, 'CSV_CELL_COUNT'],
        [5, 5, 'CSV_MALFORMED'],
        [6, 6, 'CSV_MALFORMED'],
        [7, 7, { id: '5', amount: 6, merchant: 'w' }],
      ],
    );
    assert.equal(records[1]!.value, '2,3');
  });

  it('CSV: a row with bytes that are not UTF-8 is kept as base64 of its bytes', async () => {
    const records = await collect(csvRecords(readLines(bytes('a,b\n1,', [0xc3, 0x28], '\n2,3\n')), { inputTypes: {} }));
    assert.equal(records[0]!.encoding, 'base64');
    assert.equal(Buffer.from(records[0]!.value!, 'base64').toString('hex'), '312cc328');
    assert.deepEqual(JSON.parse(records[1]!.value!), { a: '2', b: '3' });
  });

  it('CSV: a header that cannot name columns fails the file', async () => {
    await assert.rejects(collect(csvRecords(readLines(bytes('a,a\n1,2\n')), { inputTypes: {} })), /named twice/);
  });
});

describe('file bytes: bounded decompression and long lines', () => {
  const chunks = async function* (b: Buffer, size = 64 * 1024) {
    for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
  };
  const drain = async (it: AsyncIterable<Buffer>) => {
    let n = 0;
    for await (const c of it) n += c.length;
    return n;
  };
  const loose = { maxBytes: 1024 ** 3, maxRatio: 100 };

  it('a gzip file that expands 1,000x stops with FILE_UNREADABLE naming the byte it stopped at', async () => {
    const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x0a));
    assert.ok((16 * 1024 * 1024) / bomb.length >= 1000, `expands ${Math.round((16 * 1024 * 1024) / bomb.length)}x`);
    const seen: string[] = [];
    await assert.rejects(drain(fileBytes(chunks(bomb), (c) => seen.push(c), loose, 'file:///in/bomb.jsonl.gz')), (err: EtlError) => {
      assert.equal(err.code, 'FILE_UNREADABLE');
      assert.match(
        err.message,
        /^file:\/\/\/in\/bomb\.jsonl\.gz: gzip expands more than FILE_MAX_EXPANSION_RATIO \(100×: \d+ bytes from \d+\): stopped at decompressed byte \d+$/,
      );
      return true;
    });
    assert.deepEqual(seen, ['gzip']);
  });

  it('a gzip file stops past FILE_MAX_DECOMPRESSED_BYTES; one within both bounds reads whole', async () => {
    const text = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `{"i":${i},"r":"${(i * 7919) % 104729}"}`).join('\n'));
    const gz = gzipSync(text);
    assert.equal(await drain(fileBytes(chunks(gz), () => undefined, loose, 'x')), text.length);
    await assert.rejects(
      drain(fileBytes(chunks(gz), () => undefined, { maxBytes: 100_000, maxRatio: 100 }, 'x')),
      /FILE_MAX_DECOMPRESSED_BYTES \(100000 bytes\)/,
    );
    // Plain bytes are not decompressed, so neither bound applies to them.
    assert.equal(await drain(fileBytes(chunks(text), () => undefined, { maxBytes: 10, maxRatio: 1 }, 'x')), text.length);
  });

  it('a line without a newline streams through in bounded pieces and becomes one TOO_LARGE record', async () => {
    const long = Buffer.alloc(8 * MAX_LINE_BYTES, 0x78);
    const records = await collect(jsonlRecords(readLines(chunks(long))));
    assert.equal(records.length, 1);
    assert.equal(records[0]!.defect?.code, 'TOO_LARGE');
    assert.ok(Buffer.from(records[0]!.value!, records[0]!.encoding as BufferEncoding).length <= KEPT_BYTES);
  });
});

describe('file listings: walk order', () => {
  it('orders a folder before its entries and after what sorts before it, whatever the separators', () => {
    const paths = ['/d/a-c', '/d/a/b', '/d/a', '/d/a/b/c', '/d/b', '/d/a.x'];
    assert.deepEqual([...paths].sort(walkOrder), ['/d/a', '/d/a/b', '/d/a/b/c', '/d/a-c', '/d/a.x', '/d/b']);
  });
});
