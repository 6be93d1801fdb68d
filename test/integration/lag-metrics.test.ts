// While Kafka does not answer, the worker's consumer-lag gauge does not go on exporting its last
// reading as if it were current: the worker reads Kafka through a proxy the test takes down, and
// its /metrics shows NaN for the topic's partitions and etl_consumer_lag_readable 0, then live
// values again once Kafka is back. The dashboard's reader says "unknown" for the same outage.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { lagReader } from '../../lib/consumer-lag';
import { streamTopics } from '../../streams';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';
import { TcpProxy } from '../support/tcp-proxy';
import { freePort } from '../support/ports';

describe('consumer lag while Kafka is down', () => {
  let env: TestEnv;
  let proxy: TcpProxy;
  let port: number;
  const scrapes: Record<'before' | 'down' | 'back', string> = { before: '', down: '', back: '' };

  const lagLines = (text: string) =>
    [...text.matchAll(/^etl_consumer_lag\{([^}]*)\} (\S+)$/gm)].filter((m) => m[1]!.includes(`topic="${env.topic()}"`)).map((m) => m[2]!);
  const readable = (text: string) => /^etl_consumer_lag_readable(?:\{[^}]*\})? (\d+)$/m.exec(text)?.[1];
  async function scrapeUntil(ready: (text: string) => boolean): Promise<string> {
    let text = '';
    for (let i = 0; i < 90; i++) {
      text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      if (ready(text)) return text;
      await new Promise((r) => setTimeout(r, 500));
    }
    return text;
  }

  before(async () => {
    port = await freePort();
    const [host, kafkaPort] = ['127.0.0.1', 9092];
    proxy = await TcpProxy.onFreePort({ host, port: kafkaPort });
    await proxy.up();
    env = await isolatedEnv('lagm', { METRICS_PORT: port, KAFKA_TOPIC_PARTITIONS: 2 });
    const producer = env.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: env.topic(),
      messages: [0, 1, 2, 3, 4].map((i) => ({ key: String(i), value: `{"n":${i}}`, partition: i % 2 })),
    });
    await producer.disconnect();
    // The worker reads the lag through the proxy; everything else it does goes to Kafka directly.
    const viaProxy = { ...env, config: { ...env.config, KAFKA_BROKERS: [`127.0.0.1:${proxy.port}`] } };
    await withWorker(viaProxy, async () => {
      scrapes.before = await scrapeUntil((t) => lagLines(t).join(',') === '3,2' && readable(t) === '1');
      await proxy.down();
      scrapes.down = await scrapeUntil((t) => readable(t) === '0' && lagLines(t).every((v) => v === 'NaN'));
      await proxy.up();
      scrapes.back = await scrapeUntil((t) => readable(t) === '1' && lagLines(t).join(',') === '3,2');
    });
  });
  after(async () => {
    await proxy?.down();
    await env?.cleanup();
  });

  it('exports the lag per partition while Kafka answers', () => {
    assert.deepEqual(
      lagLines(scrapes.before),
      ['3', '2'],
      scrapes.before
        .split('\n')
        .filter((l) => l.startsWith('etl_consumer_lag'))
        .join('\n'),
    );
    assert.equal(readable(scrapes.before), '1');
  });

  it('exports NaN and readable 0 while it does not, instead of the last values', () => {
    assert.deepEqual(
      lagLines(scrapes.down),
      ['NaN', 'NaN'],
      scrapes.down
        .split('\n')
        .filter((l) => l.startsWith('etl_consumer_lag'))
        .join('\n'),
    );
    assert.equal(readable(scrapes.down), '0');
  });

  it('exports live values again once Kafka is back', () => {
    assert.deepEqual(lagLines(scrapes.back), ['3', '2']);
    assert.equal(readable(scrapes.back), '1');
  });

  it("the dashboard's reader reports the lag as unknown while Kafka is down", async () => {
    await proxy.down();
    const report = await lagReader({ ...env.config, KAFKA_BROKERS: [`127.0.0.1:${proxy.port}`] }, () =>
      streamTopics(env.config.KAFKA_TOPIC_PREFIX),
    )();
    assert.equal(report.available, false);
    if (!report.available)
      assert.match(report.note, new RegExp(`Kafka at 127\\.0\\.0\\.1:${proxy.port} is unreachable .*consumer lag is unknown`));
  });
});
