// Drift through the real pipeline: two streams declared in a folder outside the repository, one
// keeping undeclared fields (the default), one quarantining them, are fed the same records — some
// carrying fields neither declares — and loaded by a worker. Each load records the fields it saw;
// `etl stream drift` and `etl status` (the real CLI, a child process) report them, a second run
// counts nothing twice, and once the fields are declared a quarantine replay loads the records the
// strict stream set aside.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startDashboard } from '../../dashboard/server';
import type { DriftRow } from '../../dashboard/pipeline';
import { PROJECT_ROOT } from '../../lib/config';
import type { DriftField } from '../../lib/stream-drift';
import type { PipelineResult } from '../../workflows';
import { declarationsDir } from '../support/declarations';
import { isolatedEnv, runPipeline, type TestEnv } from '../support/harness';
import { configEnv } from '../support/isolation';

const declaration = (name: string, contract: string, moreFields = '') => `
import { defineStream, z } from 'etl-temporal/define';

export default defineStream({
  name: '${name}',
  schema: z.looseObject({ order_no: z.number().int(), side: z.enum(['buy', 'sell']), placed_at: z.iso.datetime()${moreFields} }),
  enrich: (o) => ({ order_no: o.order_no, side: o.side, placed_at: o.placed_at }),
  rawTable: 'raw_${name}',
  flatTable: '${name}_flat',
  key: { name: 'order_no', type: 'bigint' },
  eventTimeColumn: 'placed_at',
  columns: [
    { name: 'side', type: 'text', notNull: true },
    { name: 'placed_at', type: 'timestamptz', notNull: true },
  ],
  ${contract}
});
`;

const PLAIN = 200;
const VENUE = 120; // of which the last META carry meta too
const META = 30;
const LATER = 10; // a later run's records, with another field
const order = (i: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    order_no: i + 1,
    side: i % 2 ? 'buy' : 'sell',
    placed_at: new Date(Date.now() - 3_600_000 + i * 1_000).toISOString(),
    ...extra,
  });
/** Plain orders first, then orders with a venue, the last of them with nested metadata too. */
const values = [
  ...Array.from({ length: PLAIN }, (_, i) => order(i)),
  ...Array.from({ length: VENUE }, (_, k) =>
    order(PLAIN + k, { venue: 'xnas', ...(k >= VENUE - META ? { 'meta\nline': { seq: k } } : {}) }),
  ),
];

describe('drift: fields records carry that their stream does not declare', () => {
  const folder = declarationsDir({
    'orders_kept.ts': declaration('orders_kept', ''),
    'orders_strict.ts': declaration('orders_strict', "undeclaredFields: 'quarantine',"),
  });
  let env: TestEnv;
  const firstOffset: Record<string, { partition: number; offset: bigint }> = {};
  const results: Record<string, PipelineResult> = {};
  const etl = (args: string[]) =>
    promisify(execFile)(path.join(PROJECT_ROOT, 'bin', 'etl'), args, {
      encoding: 'utf8',
      env: { ...process.env, ...configEnv(env.config) },
    });
  const drift = async (stream: string) => JSON.parse((await etl(['stream', 'drift', stream, '--json'])).stdout) as DriftField[];

  before(async () => {
    env = await isolatedEnv('drift', { ETL_STREAMS_DIR: folder.dir });
    const producer = env.kafka.producer();
    await producer.connect();
    for (const stream of ['orders_kept', 'orders_strict']) {
      // One key: one partition, in order, so the first record with a venue has a known offset.
      const [meta] = await producer.send({ topic: env.topic(stream), messages: values.map((value) => ({ key: 'k', value })) });
      firstOffset[stream] = { partition: meta!.partition, offset: BigInt(meta!.baseOffset!) };
    }
    await producer.disconnect();
    for (const stream of ['orders_kept', 'orders_strict']) results[stream] = await runPipeline(env, `pipeline-${stream}-${env.id}`, stream);
  });
  after(async () => {
    try {
      await env?.cleanup();
    } finally {
      folder.remove();
    }
  });

  it('keep (the default): every record loads, the undeclared fields in the raw payload', async () => {
    const r = results.orders_kept!;
    assert.deepEqual([r.recordsArchived, r.rowsInserted, r.quarantined], [values.length, values.length, 0]);
    const { rows } = await env.pool.query<{ venues: number; metas: number }>(
      `SELECT count(*) FILTER (WHERE payload ? 'venue')::int AS venues, count(*) FILTER (WHERE payload ? E'meta\\nline')::int AS metas FROM raw_orders_kept`,
    );
    assert.deepEqual(rows[0], { venues: VENUE, metas: META });
  });

  it('quarantine: the records with undeclared fields are UNDECLARED_FIELD, naming them; the others load', async () => {
    const r = results.orders_strict!;
    assert.deepEqual([r.recordsArchived, r.rowsInserted, r.quarantined], [values.length, PLAIN, VENUE]);
    const { rows } = await env.pool.query<{ reason_code: string; reason: string; n: number }>(
      `SELECT reason_code, reason, count(*)::int AS n FROM quarantine WHERE stream = 'orders_strict' GROUP BY 1, 2 ORDER BY 3 DESC`,
    );
    assert.deepEqual(rows, [
      {
        reason_code: 'UNDECLARED_FIELD',
        reason: `field not declared by the stream's schema: "venue" (its declaration says undeclaredFields: 'quarantine')`,
        n: VENUE - META,
      },
      {
        reason_code: 'UNDECLARED_FIELD',
        reason: `2 fields not declared by the stream's schema: "venue", "meta\\nline" (its declaration says undeclaredFields: 'quarantine')`,
        n: META,
      },
    ]);
  });

  it('is recorded per load under either contract, and `etl stream drift` lists it: newest first, counts, where first seen', async () => {
    for (const stream of ['orders_kept', 'orders_strict']) {
      const fields = await drift(stream);
      const first = firstOffset[stream]!;
      const { rows: loads } = await env.pool.query<{ n: number; records: number }>(
        'SELECT count(*)::int AS n, sum(undeclared_records)::int AS records FROM loads WHERE stream = $1',
        [stream],
      );
      assert.equal(loads[0]!.records, VENUE, stream);
      const venue = fields.find((f) => f.field === 'venue')!;
      const meta = fields.find((f) => f.field === 'meta\nline')!;
      assert.deepEqual(fields.map((f) => f.field).sort(), ['meta\nline', 'venue'], stream);
      assert.deepEqual([venue.records, meta.records], [VENUE, META], stream);
      assert.ok(venue.loads >= 1 && venue.loads <= loads[0]!.n, stream);
      assert.deepEqual(
        [venue.firstSeen.partition, venue.firstSeen.offset],
        [first.partition, String(first.offset + BigInt(PLAIN))],
        stream,
      );
      assert.deepEqual(
        [meta.firstSeen.partition, meta.firstSeen.offset],
        [first.partition, String(first.offset + BigInt(PLAIN + VENUE - META))],
        stream,
      );
      assert.match(venue.firstSeen.objectKey!, /bronze\//);
      // Newest first: a field first seen in a later load comes before one seen earlier.
      assert.ok(fields[0]!.firstSeenAt >= fields[1]!.firstSeenAt);
    }
    const { stdout } = await etl(['stream', 'drift', 'orders_strict']);
    const lines = stdout.trimEnd().split('\n');
    assert.equal(
      lines[0],
      'stream orders_strict: 2 undeclared fields, the newest first; records carrying them are quarantined as UNDECLARED_FIELD',
    );
    assert.match(lines[1]!, /^field\s+records\s+loads\s+first seen\s+last seen\s+first seen in$/);
    assert.ok(
      lines.some((l) => /^venue\s+120\s+\d+\s/.test(l)),
      stdout,
    );
    assert.ok(
      lines.some((l) => /^"meta\\nline"\s+30\s+\d+\s/.test(l)),
      `the newline is shown escaped: ${stdout}`,
    );
  });

  it('is counted once per object, the newest field first: a later run counts only its own records', async () => {
    const producer = env.kafka.producer();
    await producer.connect();
    const later = Array.from({ length: LATER }, (_, i) => order(values.length + i, { desk: 'fx' }));
    await producer.send({ topic: env.topic('orders_kept'), messages: later.map((value) => ({ key: 'k', value })) });
    await producer.disconnect();
    const again = await runPipeline(env, `pipeline-orders_kept-again-${env.id}`, 'orders_kept');
    assert.equal(again.rowsInserted, LATER);
    const fields = await drift('orders_kept');
    assert.deepEqual(
      fields.map((f) => [f.field, f.records]),
      [
        ['desk', LATER],
        ['meta\nline', META],
        ['venue', VENUE],
      ],
    );
    assert.equal(fields[0]!.loads, 1);
    assert.ok(fields[0]!.firstSeenAt >= fields[2]!.lastSeenAt);
    assert.equal(fields[0]!.firstSeen.offset, String(firstOffset.orders_kept!.offset + BigInt(values.length)));
  });

  it('`etl status` gives each stream one line of it', async () => {
    const { stdout } = await etl(['status']);
    const driftLine = (stream: string) =>
      stdout
        .split('\n\n')
        .find((b) => b.startsWith(`${stream} `))!
        .split('\n')
        .find((l) => l.startsWith('  drift '));
    assert.match(
      driftLine('orders_kept')!,
      /^ {2}drift {10}3 undeclared fields \(venue, "meta\\nline", desk\) in 130 records, last seen \S+Z; etl stream drift orders_kept$/,
    );
    assert.match(
      driftLine('orders_strict')!,
      /^ {2}drift {10}2 undeclared fields \(venue, "meta\\nline"\) in 120 records, last seen \S+Z; etl stream drift orders_strict$/,
    );
    assert.equal(driftLine('transactions'), '  drift          -');
  });

  it("shows in the dashboard's pipeline panel, per stream, read through the read-only role", async () => {
    const server = await startDashboard(env.config, { host: '127.0.0.1', port: 0 });
    try {
      const res = await fetch(new URL('/api/pipeline', server.url));
      assert.equal(res.status, 200);
      const { drift } = (await res.json()) as { drift: DriftRow[] };
      const of = (stream: string) => drift.find((d) => d.stream === stream)!;
      for (const [stream, contract] of [
        ['orders_kept', 'keep'],
        ['orders_strict', 'quarantine'],
      ] as const) {
        const row = of(stream);
        assert.equal(row.undeclaredFields, contract);
        assert.deepEqual(
          [row.drift?.fields, row.drift?.records, row.drift?.names],
          contract === 'keep' ? [3, VENUE + LATER, ['venue', 'meta\nline', 'desk']] : [2, VENUE, ['venue', 'meta\nline']],
          stream,
        );
      }
      assert.deepEqual(of('transactions'), { stream: 'transactions', undeclaredFields: 'keep', drift: null });
    } finally {
      await server.close();
    }
  });

  it('answers bad input with usage and exit 2', async () => {
    for (const args of [
      ['stream', 'drift', 'no_such_stream'],
      ['stream', 'drift'],
      ['stream', 'drift', 'orders_kept', '--limit', '0'],
    ]) {
      await assert.rejects(etl(args), (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2, `${args.join(' ')}: ${err.stderr}`);
        assert.match(err.stderr, /^error: .*\n\(run with --help for usage\)\n$/);
        assert.doesNotMatch(err.stderr, /\n\s+at /, 'no stack trace');
        return true;
      });
    }
  });

  it('loads the UNDECLARED_FIELD records by a quarantine replay once their fields are declared', async () => {
    folder.write(
      'orders_strict.ts',
      declaration(
        'orders_strict',
        "undeclaredFields: 'quarantine',",
        ", venue: z.string().optional(), 'meta\\nline': z.unknown().optional()",
      ),
    );
    const replayed = JSON.parse(
      (await etl(['quarantine', 'replay', '--stream', 'orders_strict', '--reason', 'UNDECLARED_FIELD', '--json'])).stdout,
    ) as { examined: number; loaded: number; stillInvalid: Record<string, number> };
    assert.deepEqual([replayed.examined, replayed.loaded, replayed.stillInvalid], [VENUE, VENUE, {}]);
    const { rows } = await env.pool.query<{ n: number; metas: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE payload ? E'meta\\nline')::int AS metas FROM raw_orders_strict`,
    );
    assert.deepEqual(rows[0], { n: PLAIN + VENUE, metas: META });
  });
});
