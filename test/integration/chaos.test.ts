// The fault-injection harness in a small configuration: 20,000 events (1% bad of six kinds, 0.5% re-sent)
// through a real `etl worker` child process that is SIGKILLed three times, once while each of
// archive, transform and load runs, with the Kafka broker restarted mid-run. Nothing may be lost
// or doubled; `npm run chaos` is the full-size run (1,000,000 events, 10 kills, every server).
// The broker it restarts is one of its own, so the test files running beside it keep theirs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { stackUp } from '../../client/stack';
import { runChaos, type ChaosReport } from '../../tools/chaos';
import { loadConfig } from '../../lib/config';
import { privateKafka, type PrivateKafka } from '../support/private-kafka';

describe('chaos: worker kills and a broker restart mid-run', () => {
  let broker: PrivateKafka;
  before(async () => {
    broker = await privateKafka(loadConfig());
    await stackUp(broker.config, { only: ['kafka'] });
  });
  after(async () => broker?.remove());

  it('loads or quarantines every produced record exactly once', { timeout: 420_000 }, async () => {
    const report: ChaosReport = await runChaos(broker.config, {
      events: 20_000,
      seed: 7,
      kills: 3,
      restarts: ['kafka'],
      pollMs: 100,
      timeoutMs: 360_000,
    });
    assert.deepEqual(report.problems, [], JSON.stringify(report, null, 2));
    assert.equal(report.passed, true);

    // The expected outcome, from the seed: 19,700 good events, 200 bad records, 100 re-sends.
    assert.equal(report.loaded, 19_700);
    assert.equal(report.raw, 19_700);
    assert.deepEqual(report.quarantined.byReason, {
      MALFORMED_JSON: 34,
      MISSING_FIELD: 34,
      INVALID_VALUE: 33,
      UNSTORABLE_VALUE: 33,
      DUPLICATE_FIELD: 33,
      LOAD_REJECTED: 33,
    });
    assert.equal(report.deduplicated, 100);
    assert.ok(report.checks.length >= 20 && report.checks.every((c) => c.passed));

    // The faults really happened: three kills, during each stage, each seen by the server as a
    // retried activity; the broker went down and came back, and the pipeline moved on after it.
    assert.equal(report.kills.done, 3);
    for (const stage of ['archive', 'transformAndLoad']) assert.ok(report.kills.byActivity[stage], `a kill during ${stage}`);
    assert.ok(
      report.kills.list.some((k) => k.confirmed),
      'the history shows a killed activity retried',
    );
    assert.ok(report.retried.list.some((r) => r.cause === 'heartbeat timeout'));
    assert.equal(report.restarts.list.length, 1);
    const kafka = report.restarts.list[0]!;
    assert.equal(kafka.service, 'kafka');
    assert.equal(kafka.error, undefined);
    assert.ok(kafka.stopS + kafka.startS > 0 && kafka.recoveredAfterS !== null, JSON.stringify(kafka));
  });
});
