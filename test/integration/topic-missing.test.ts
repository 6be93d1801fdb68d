// Producing to a topic that does not exist (a KAFKA_TOPIC_PREFIX nobody set up) says so, names the
// topic and the command that creates it — it is not "cannot reach Kafka", and no topic appears.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { buildClients } from '../../lib/clients';
import { loadConfig, PROJECT_ROOT } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { classifyKafkaError } from '../../lib/kafka';
import { produceTransactions } from '../../activities/ingest/produce';

describe('a topic that does not exist', () => {
  const prefix = `nosuch-${randomBytes(4).toString('hex')}-`;
  const clients = buildClients({ ...loadConfig(), LOG_LEVEL: 'silent', KAFKA_TOPIC_PREFIX: prefix });
  after(async () => clients.close());

  const topics = async () => {
    const admin = clients.kafka.admin();
    await admin.connect();
    try {
      return (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    } finally {
      await admin.disconnect();
    }
  };

  it('is KAFKA_TOPIC_MISSING from the library, found before producing and without creating it', { timeout: 30_000 }, async () => {
    await assert.rejects(
      produceTransactions(clients.kafka, clients.config.KAFKA_BROKERS, {
        topic: `${prefix}transactions`,
        rows: 10,
        seed: 1,
        startMs: 0,
        windowMs: 1_000,
      }),
      (err: unknown) => {
        assert.ok(err instanceof EtlError, String(err));
        assert.equal(err.code, 'KAFKA_TOPIC_MISSING');
        assert.equal(err.retryable, false);
        assert.equal(err.cause, undefined, 'found by listing the topics before producing: no producer retried it first');
        assert.match(
          err.message,
          new RegExp(
            `^topic "${prefix}transactions" does not exist on Kafka at 127\\.0\\.0\\.1:9092 — \`etl worker\` creates the stream topics`,
          ),
        );
        return true;
      },
    );
    assert.deepEqual(await topics(), []);
  });

  it('is one line from `etl produce`, exit 1, never "cannot reach Kafka"', { timeout: 60_000 }, async () => {
    const r = spawnSync(
      path.join(PROJECT_ROOT, 'bin', 'etl'),
      ['produce', 'ticks', '--rows', '5', '--symbols', 'BTC-USD', '--start', '2026-11-22T00:00:00Z'],
      {
        env: { ...process.env, KAFKA_TOPIC_PREFIX: prefix },
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^error \\[KAFKA_TOPIC_MISSING\\]: topic "${prefix}ticks" does not exist on Kafka at [^ ]+ — \`etl worker\` creates the stream topics when it starts, with the KAFKA_TOPIC_PREFIX it runs with; check KAFKA_TOPIC_PREFIX if it should exist already\\n$`,
      ),
    );
    assert.doesNotMatch(r.stderr, /cannot reach/);
    assert.deepEqual(await topics(), []);
  });

  it('a broker that refuses a send for an unknown topic is classified the same way, not as unreachable', { timeout: 60_000 }, async () => {
    const producer = clients.kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 1 } });
    await producer.connect();
    try {
      const err = await producer.send({ topic: `${prefix}raw`, messages: [{ value: 'x' }] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      const classified = classifyKafkaError(err, clients.config.KAFKA_BROKERS);
      assert.ok(classified instanceof EtlError);
      assert.equal(classified.code, 'KAFKA_TOPIC_MISSING');
    } finally {
      await producer.disconnect();
    }
  });
});
