// The consumer-lag gauge never shows an old reading as the current one: what could not be read is
// NaN, and etl_consumer_lag_readable says whether the numbers are live.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LagReport } from '../../lib/consumer-lag';
import { LagGauges, type LagGauge } from '../../worker/lag-metrics';

class RecordingGauge implements LagGauge {
  readonly values = new Map<string, number>();
  set(value: number, tags: Record<string, string> = {}): void {
    this.values.set(JSON.stringify(tags), value);
  }
}

const at = '2026-11-22T00:00:00.000Z';
const read = (lags: number[], topic = 't-transactions'): LagReport => ({
  available: true,
  checkedAt: at,
  topics: [
    {
      stream: 'transactions',
      topic,
      group: 'g',
      exists: true,
      lag: lags.reduce((a, b) => a + b, 0),
      partitions: lags.map((lag, partition) => ({ partition, high: lag, committed: 0, lag })),
    },
  ],
});
const down: LagReport = { available: false, note: 'Kafka at 127.0.0.1:9 is unreachable', checkedAt: at };
const series = (topic: string, partition: number) => JSON.stringify({ stream: 'transactions', topic, partition: String(partition) });

describe('LagGauges', () => {
  it('exports each partition, then NaN for every one while Kafka cannot be read, then live values again', () => {
    const lag = new RecordingGauge();
    const readable = new RecordingGauge();
    const gauges = new LagGauges(lag, readable);

    gauges.apply(read([5, 0, 7]));
    assert.deepEqual([...lag.values.values()], [5, 0, 7]);
    assert.equal(readable.values.get('{}'), 1);

    gauges.apply(down);
    assert.deepEqual([...lag.values.values()].map(Number.isNaN), [true, true, true]);
    assert.equal(readable.values.get('{}'), 0);

    gauges.apply(read([1, 2, 3]));
    assert.deepEqual([...lag.values.values()], [1, 2, 3]);
    assert.equal(readable.values.get('{}'), 1);
  });

  it('marks a series that disappeared (topic deleted, fewer partitions) unknown instead of keeping it', () => {
    const lag = new RecordingGauge();
    const gauges = new LagGauges(lag, new RecordingGauge());
    gauges.apply(read([4, 4], 'old'));
    gauges.apply(read([9], 'new'));
    assert.ok(Number.isNaN(lag.values.get(series('old', 0))!));
    assert.ok(Number.isNaN(lag.values.get(series('old', 1))!));
    assert.equal(lag.values.get(series('new', 0)), 9);
  });
});
