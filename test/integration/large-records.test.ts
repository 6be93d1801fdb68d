// Records whose size the platform does not choose, sent by a plain kafkajs producer to a real
// `etl worker` process with its default heap and settings: 600 valid transactions padded to 256 KB
// (150 MB, nine times ARCHIVE_MAX_OBJECT_BYTES), then 100 ordinary ones; a mix of 900 KB records
// among ordinary ones; and one gzip batch that expands past KAFKA_MAX_BATCH_BYTES. The pipeline run
// completes; every big record is quarantined TOO_LARGE with its size, its SHA-256 and its first
// bytes (the original stays in bronze, or — past what the batch budget lets the archive decompress
// — in Kafka); every ordinary one is loaded; bronze objects stay within ARCHIVE_MAX_OBJECT_BYTES;
// and the worker stays alive (before the bounds, 2,000 such records killed it at 1.2 GB). What the
// worker holds is bounded per object, so more objects of the same records add minutes, not proof
// (2,000 records, 32 objects, gave the same peak: docs/performance.md). Its peak RSS (VmHWM, read
// from /proc at the end) is reported beside the 512 MB target, which it misses yet.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CompressionTypes, Kafka, logLevel, type Message } from 'kafkajs';
import { recordLineage } from '../../client/commands/lineage';
import { PROJECT_ROOT } from '../../lib/config';
import { PAYLOAD_PREFIX_BYTES } from '../../lib/lake';
import { connectClient } from '../../lib/temporal';
import { transactionsStream } from '../../streams/transactions';
import { syntheticTransaction } from '../../streams/transactions/generator';
import type { PipelineResult } from '../../workflows';
import { isolatedEnv, type TestEnv } from '../support/harness';
import { configEnv } from '../support/isolation';

/** The worker's peak RSS target (docs/performance.md). */
const WORKER_RSS_TARGET_MB = 512;
const KB = 1024;
const gen = { seed: 23, startMs: Date.parse('2026-11-20T00:00:00Z'), windowMs: 3_600_000 };

interface Sent {
  id: string;
  bytes: Buffer;
  big: boolean;
}

let n = 0;
/** A valid transaction, padded with one extra field to about `size` bytes (random text: compression does not shrink it). */
function transaction(size: number): Sent {
  const event = syntheticTransaction(n++, gen);
  const bare = JSON.stringify(event).length;
  const pad = size > bare + 20 ? randomBytes(Math.floor(((size - bare - 20) * 3) / 4)).toString('base64') : undefined;
  const bytes = Buffer.from(JSON.stringify(pad ? { ...event, padding: pad } : event));
  return { id: event.transaction_id, bytes, big: size > 64 * KB };
}

describe('records of any size: bounded by configuration, not by input', () => {
  let env: TestEnv;
  let result: PipelineResult;
  let peakRssKb: number;
  const sent: Sent[] = [];
  const bombed: Sent[] = [];

  const spawnWorker = (): { child: ChildProcess; exited: Promise<number | null>; stderr: () => string } => {
    const child = spawn(path.join(PROJECT_ROOT, 'bin', 'etl'), ['worker'], {
      env: { ...process.env, ...configEnv(env.config), LOG_LEVEL: 'error' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    return { child, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))), stderr: () => stderr };
  };

  before(async () => {
    // The smallest batch budget there is, so one gzip batch of a few MB expands past it.
    env = await isolatedEnv('bigrec', { KAFKA_MAX_BATCH_BYTES: 1024 * 1024 });
    const kafka = new Kafka({ clientId: `plain-${env.id}`, brokers: env.config.KAFKA_BROKERS, logLevel: logLevel.NOTHING });
    const producer = kafka.producer(); // plain: not ours, no idempotence
    await producer.connect();
    const topic = env.topic();
    // A record batch must stay under the broker's message.max.bytes (1 MB): few records per send.
    const send = async (records: Sent[], perSend: number) => {
      const sends: Message[][] = [];
      for (let i = 0; i < records.length; i += perSend) sends.push(records.slice(i, i + perSend).map((r) => ({ value: r.bytes })));
      for (let i = 0; i < sends.length; i += 8)
        await Promise.all(sends.slice(i, i + 8).map((messages) => producer.send({ topic, messages, compression: CompressionTypes.None })));
    };
    const padded = Array.from({ length: 600 }, () => transaction(256 * KB));
    const ordinary = Array.from({ length: 100 }, () => transaction(0));
    await send(padded, 3);
    await send(ordinary, 50);
    const mix = Array.from({ length: 120 }, (_, i) => transaction(i % 4 === 0 ? 900 * KB : 0));
    await send(mix, 1);
    sent.push(...padded, ...ordinary, ...mix);
    // One gzip batch of 6 × 600 KB of one repeated letter: a few KB compressed, 3.6 MB inflated.
    const bomb = Array.from({ length: 6 }, () => {
      const event = syntheticTransaction(n++, gen);
      const bytes = Buffer.from(JSON.stringify({ ...event, padding: 'a'.repeat(600 * KB) }));
      return { id: event.transaction_id, bytes, big: true };
    });
    await producer.send({ topic, messages: bomb.map((r) => ({ value: r.bytes, partition: 0 })), compression: CompressionTypes.GZIP });
    bombed.push(...bomb);
    sent.push(...bomb);
    await producer.disconnect();

    const worker = spawnWorker();
    const client = await connectClient(env.config);
    try {
      result = (await client.workflow.execute('pipelineWorkflow', {
        taskQueue: env.config.TEMPORAL_TASK_QUEUE,
        workflowId: `pipeline-bigrec-${env.id}`,
        args: [{ stream: 'transactions', objectConcurrency: 2 }],
      })) as PipelineResult;
      const status = await readFile(`/proc/${worker.child.pid}/status`, 'utf8');
      peakRssKb = Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]);
      assert.equal(worker.child.exitCode, null, `the worker is alive at the end: ${worker.stderr()}`);
    } finally {
      await client.connection.close();
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  });
  after(async () => {
    await env?.cleanup();
  });

  it('completes the run: every ordinary record loaded, every big one quarantined TOO_LARGE', async () => {
    const small = sent.filter((s) => !s.big);
    const big = sent.filter((s) => s.big);
    assert.equal(result.recordsArchived, sent.length);
    const { rows: flat } = await env.pool.query<{ transaction_id: string }>('SELECT transaction_id::text FROM transactions_flat');
    assert.deepEqual(flat.map((r) => r.transaction_id).sort(), small.map((s) => s.id).sort());
    const { rows: q } = await env.pool.query<{ reason_code: string; n: number }>(
      'SELECT reason_code, count(*)::int AS n FROM quarantine GROUP BY reason_code',
    );
    assert.deepEqual(q, [{ reason_code: 'TOO_LARGE', n: big.length }]);
  });

  it('keeps of each big record its size, its SHA-256 and its first bytes, not its payload', async () => {
    const { rows } = await env.pool.query<{ payload: string; payload_bytes: number; payload_sha256: string }>(
      'SELECT payload, payload_bytes::int, payload_sha256 FROM quarantine',
    );
    const bySha = new Map(rows.map((r) => [r.payload_sha256, r]));
    for (const s of sent.filter((x) => x.big)) {
      const row = bySha.get(createHash('sha256').update(s.bytes).digest('hex'));
      assert.ok(row, `record ${s.id} (${s.bytes.length} bytes) is quarantined under its hash`);
      assert.equal(row.payload_bytes, s.bytes.length);
      assert.ok(Buffer.byteLength(row.payload) <= PAYLOAD_PREFIX_BYTES);
      assert.ok(s.bytes.subarray(0, Buffer.byteLength(row.payload)).equals(Buffer.from(row.payload)), 'its first bytes');
    }
    const { rows: reasons } = await env.pool.query<{ reason: string }>(
      "SELECT reason FROM quarantine WHERE reason LIKE '%KAFKA_MAX_BATCH_BYTES%'",
    );
    assert.ok(
      reasons.length > 0 && reasons.length < bombed.length,
      'the gzip batch is decompressed as far as its budget, the rest set aside',
    );
  });

  it('cuts bronze objects by bytes, and says where each original is', async () => {
    const { rows } = await env.pool.query<{ n: number; max_records: number }>(
      "SELECT count(*)::int AS n, max(record_count) AS max_records FROM bronze_objects WHERE status = 'archived'",
    );
    const total = sent.reduce((sum, s) => sum + s.bytes.length, 0);
    assert.ok(rows[0]!.n >= Math.ceil(total / env.config.ARCHIVE_MAX_OBJECT_BYTES), `${rows[0]!.n} objects for ${total} bytes`);
    const padded = sent[0]!;
    const lineage = await recordLineage(env.pool, transactionsStream, padded.id);
    assert.equal(lineage.loaded, undefined);
    const q = lineage.quarantined[0]!;
    assert.equal(q.reason_code, 'TOO_LARGE');
    assert.match(q.bronze_key ?? '', /bronze\//);
    const shown = await new Promise<string>((resolve, reject) =>
      execFile(
        path.join(PROJECT_ROOT, 'bin', 'etl'),
        ['quarantine', 'show', String(q.id)],
        { encoding: 'utf8', env: { ...process.env, ...configEnv(env.config) } },
        (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)),
      ),
    );
    assert.ok(shown.includes(q.bronze_key!), 'quarantine show names the bronze object');
    assert.match(shown, new RegExp(`${padded.bytes.length}-byte value`));
  });

  it('keeps the worker alive through it, and reports its peak RSS', (t) => {
    assert.ok(peakRssKb > 0);
    // The target (≤ 512 MB, docs/performance.md) is not met yet: reported, not asserted.
    t.diagnostic(`worker VmHWM ${Math.round(peakRssKb / 1024)} MB (target ${WORKER_RSS_TARGET_MB} MB)`);
  });
});
