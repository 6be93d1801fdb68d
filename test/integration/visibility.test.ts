// What operators watch: Prometheus metrics from the worker (SDK runtime + pipeline counters), and
// runs in the Web UI's list filterable by stream, with their counts as search attributes and memo.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { produceTransactions } from '../../activities/ingest/produce';
import { connectClient } from '../../lib/temporal';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';
import { freePort } from '../support/ports';

/** Scrapes the worker's metrics until `ready` holds; the worker reads the lag every few seconds. */
async function scrapeUntil(port: number, ready: (text: string) => boolean): Promise<string> {
  let text = '';
  for (let i = 0; i < 120; i++) {
    text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    if (ready(text)) return text;
    await new Promise((r) => setTimeout(r, 500));
  }
  return text;
}

describe('metrics and search attributes', () => {
  let env: TestEnv;
  let port: number;
  let metricsText = '';
  let lagBefore = '';
  let lagAfter = '';
  const workflowId = () => `pipeline-vis-${env.id}`;
  /** etl_consumer_lag of this test's topic, per partition. */
  const lagLines = (text: string) =>
    [...text.matchAll(/^etl_consumer_lag\{([^}]*)\} (\d+)$/gm)].filter((m) => m[1]!.includes(`topic="${env.topic()}"`));
  const lagOf = (text: string) => {
    const lines = lagLines(text);
    return lines.length ? lines.reduce((n, m) => n + Number(m[2]), 0) : undefined;
  };

  before(async () => {
    port = await freePort();
    env = await isolatedEnv('vis', { METRICS_PORT: port });
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, {
      seed: 8,
      startMs: Date.now() - 3_600_000,
      windowMs: 3_600_000,
      topic: env.topic(),
      rows: 800,
    });
    const producer = env.kafka.producer();
    await producer.connect();
    await producer.send({ topic: env.topic(), messages: [{ value: 'not json' }, { value: '[]' }] });
    await producer.disconnect();
    // Scrape while the worker runs: the SDK runtime, and its exporter, stop with the last worker.
    metricsText = await withWorker(env, async (client) => {
      // Produced, nothing consumed yet: the worker's own lag reading shows all of it.
      lagBefore = await scrapeUntil(port, (text) => lagOf(text) === 802);
      await client.workflow.execute('pipelineWorkflow', {
        taskQueue: env.config.TEMPORAL_TASK_QUEUE,
        workflowId: workflowId(),
        args: [{ stream: 'transactions' }],
      });
      lagAfter = await scrapeUntil(port, (text) => lagOf(text) === 0);
      return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    });
  });
  after(async () => env?.cleanup());

  it('exports SDK and pipeline metrics for Prometheus', async () => {
    const text = metricsText;
    // Summed over label sets: a counter may be added by several activity types.
    const value = (name: string) =>
      [...text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\d+)$`, 'gm'))]
        .filter((m) => m[1]!.includes(`taskQueue="${env.config.TEMPORAL_TASK_QUEUE}"`))
        .reduce<number | undefined>((sum, m) => (sum ?? 0) + Number(m[2]), undefined);
    assert.equal(value('etl_records_archived'), 802);
    assert.equal(value('etl_records_loaded'), 800);
    assert.equal(value('etl_records_quarantined'), 2);
    assert.match(text, /^temporal_activity_execution_latency/m, 'SDK runtime metrics too');
    // Activity durations come from the SDK, per activity type and task queue.
    assert.match(
      text,
      new RegExp(
        `^temporal_activity_execution_latency\\w*\\{[^}]*activity_type="archive"[^}]*task_queue="${env.config.TEMPORAL_TASK_QUEUE}"`,
        'm',
      ),
    );
  });

  it('exports consumer lag per partition: all of it before the run, none after', () => {
    assert.equal(
      lagOf(lagBefore),
      802,
      lagLines(lagBefore)
        .map((m) => m[0])
        .join('\n') || 'no etl_consumer_lag line for this topic',
    );
    const partitions = lagLines(lagBefore)
      .map((m) => /partition="(\d+)"/.exec(m[1]!)?.[1])
      .sort();
    assert.deepEqual(partitions, ['0', '1', '2']);
    for (const m of lagLines(lagBefore)) assert.match(m[1]!, /stream="transactions"/);
    assert.equal(
      lagOf(lagAfter),
      0,
      lagLines(lagAfter)
        .map((m) => m[0])
        .join('\n'),
    );
  });

  it('makes the run filterable by stream in the UI, with its counts', async () => {
    const client = await connectClient(env.config);
    try {
      const found: string[] = [];
      for (let i = 0; i < 20 && found.length === 0; i++) {
        for await (const wf of client.workflow.list({ query: `EtlStream = 'transactions' AND WorkflowId = '${workflowId()}'` }))
          found.push(wf.workflowId);
        if (found.length === 0) await new Promise((r) => setTimeout(r, 500)); // visibility is eventually consistent
      }
      assert.deepEqual(found, [workflowId()]);
      const d = await client.workflow.getHandle(workflowId()).describe();
      assert.deepEqual(d.searchAttributes.EtlRecordsLoaded, [800]);
      assert.deepEqual(d.searchAttributes.EtlRecordsQuarantined, [2]);
      assert.deepEqual(d.searchAttributes.EtlStage, ['done']);
      assert.equal((d.memo?.totals as { rowsInserted: number }).rowsInserted, 800);
    } finally {
      await client.connection.close();
    }
  });
});
