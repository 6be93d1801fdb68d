// A large unthrottled run produces on worker threads (activities/ingest/lanes.ts): the topic then
// holds exactly the generator's messages, each once, and a run resumed from a reported point adds
// exactly the rest.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createActivities } from '../../activities';
import { produceTransactions, THREADED_MIN_ROWS } from '../../activities/ingest/produce';
import { transactionMessage } from '../../streams/transactions/synthetic';
import { isolatedEnv, type TestEnv } from '../support/harness';
import { activityEnv } from '../support/activity-env';

const gen = { seed: 11, startMs: Date.parse('2026-11-20T00:00:00Z'), windowMs: 86_400_000 };
const ROWS = THREADED_MIN_ROWS + 10_000;

async function topicCount(env: TestEnv): Promise<number> {
  const admin = env.kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(env.topic())).reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Every value on the topic: as many as its end offsets count, read from the beginning. */
async function readAll(env: TestEnv): Promise<string[]> {
  const total = await topicCount(env);
  const consumer = env.kafka.consumer({ groupId: `${env.config.KAFKA_CLIENT_ID}-check` });
  const values: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: env.topic(), fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) values.push(m.value!.toString());
            if (values.length >= total) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return values;
}

describe('producing on worker threads', () => {
  let env: TestEnv;
  before(async () => {
    env = await isolatedEnv('prodthreads');
  });
  after(async () => env?.cleanup());

  it('writes each generated message exactly once, resumed or not', { timeout: 180_000 }, async () => {
    const threads = { count: 2, settings: env.config };
    const progress: number[] = [];
    const half = 30_000;
    const first = await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, {
      ...gen,
      topic: env.topic(),
      rows: half,
      threads: { count: 2, settings: env.config },
    });
    assert.equal(first, half); // below THREADED_MIN_ROWS: the calling thread's lanes
    const second = await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, {
      ...gen,
      topic: env.topic(),
      rows: half + ROWS,
      startIndex: half,
      threads,
      onProgress: (n) => progress.push(n),
    });
    assert.equal(second, ROWS);
    assert.equal(progress.at(-1), half + ROWS);
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
    );

    const values = await readAll(env);
    assert.equal(values.length, half + ROWS);
    const expected = new Set(Array.from({ length: half + ROWS }, (_, i) => String(transactionMessage(i, gen).value)));
    assert.equal(new Set(values).size, half + ROWS, 'no message twice');
    for (const v of values) assert.ok(expected.has(v), `unexpected message ${v}`);
  });

  it('is what the ingest activity does, heartbeating a resume point that only grows', { timeout: 180_000 }, async () => {
    const before = await topicCount(env);
    const mock = activityEnv();
    const beats: number[] = [];
    mock.on('heartbeat', (d: { nextIndex: number }) => beats.push(d.nextIndex));
    const r = (await mock.run(createActivities(env).ingest, { stream: 'transactions', rows: THREADED_MIN_ROWS, ...gen })) as {
      produced: number;
    };
    assert.equal(r.produced, THREADED_MIN_ROWS);
    assert.equal(await topicCount(env), before + THREADED_MIN_ROWS);
    assert.equal(beats.at(-1), THREADED_MIN_ROWS);
    assert.deepEqual(
      beats,
      [...beats].sort((a, b) => a - b),
    );
  });
});
