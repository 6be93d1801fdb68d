// A replay's refused rows, counted and printed: a record with an open quarantine row stays
// quarantined (`refused`), any other is a loaded row kept as it was (`refusedUpdates`), by SQLSTATE.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyReplayCounts } from '../../shared/replay-counts';
import { countRefused, SAMPLE } from '../../activities/replay/replay-refused';
import type { RefusedLine } from '../../activities/transform-load/load-isolation';
import { describeReplay } from '../../client/commands/replay';
import type { ReplayResult } from '../../workflows';

const line = (partition: number, offset: number, sqlState: string, message: string): RefusedLine => ({
  line: JSON.stringify({ transaction_id: 'x', payload: {}, kafka_partition: partition, kafka_offset: offset }),
  sqlState,
  message,
});

describe('refused rows of a replay', () => {
  it('tells a quarantined record from a loaded row by its open quarantine row, by SQLSTATE', () => {
    const counts = emptyReplayCounts();
    countRefused(
      counts,
      [
        line(0, 7, '23514', 'new row for relation "transactions_flat" violates check constraint "transactions_flat_event_hour_check"'),
        line(1, 3, '22003', 'numeric field overflow'),
        line(1, 4, '22003', 'numeric field overflow'),
      ],
      new Set(['0@7', '1@5']),
    );
    assert.equal(counts.refused, 1);
    assert.deepEqual(counts.refusedByState, { '23514': 1 });
    assert.deepEqual(counts.refusedSample, [
      '0@7 23514 new row for relation "transactions_flat" violates check constraint "transactions_flat_event_hour_check"',
    ]);
    assert.equal(counts.refusedUpdates, 2);
    assert.deepEqual(counts.refusedUpdatesByState, { '22003': 2 });
    assert.deepEqual(counts.refusedUpdatesSample, ['1@3 22003 numeric field overflow', '1@4 22003 numeric field overflow']);
    assert.equal(counts.nowInvalid + counts.inserted + counts.stillQuarantined, 0, 'no other count moves');
  });

  it(`keeps ${SAMPLE} examples and cuts a long message`, () => {
    const counts = emptyReplayCounts();
    const long = `value too long ${'x'.repeat(500)}`;
    countRefused(
      counts,
      Array.from({ length: SAMPLE + 3 }, (_, i) => line(0, i, '22001', long)),
      new Set(),
    );
    assert.equal(counts.refusedUpdates, SAMPLE + 3);
    assert.equal(counts.refusedUpdatesSample.length, SAMPLE);
    for (const s of counts.refusedUpdatesSample) {
      assert.ok(s.length < 200, s);
      assert.ok(s.endsWith('…'), s);
    }
  });

  it("etl replay's summary names both, by SQLSTATE, with examples; a replay without them says nothing of them", () => {
    const result: ReplayResult = {
      ...emptyReplayCounts(),
      objectsDone: 1,
      objectsTotal: 1,
      objectsNotLoaded: 0,
      afterId: 1,
      objectsFailed: 0,
      failedSample: [],
      lakeObjectsWritten: 1,
      lakeFailed: 0,
      records: 42,
      quality: { passed: true, checks: [] },
      aggregatesRefreshed: [],
    };
    assert.ok(!describeReplay(result).some((l) => /PostgreSQL/.test(l)));
    const counts = emptyReplayCounts();
    countRefused(counts, [line(0, 7, '23514', 'check'), line(0, 9, '22003', 'numeric field overflow')], new Set(['0@7']));
    const lines = describeReplay({ ...result, ...counts, records: 42 });
    assert.ok(
      lines.includes(
        '1 previously quarantined records pass the current rules but PostgreSQL refused to store them (stay quarantined): SQLSTATE 23514 1; e.g. 0@7 23514 check',
      ),
      lines.join('\n'),
    );
    assert.ok(
      lines.includes(
        '1 loaded rows keep their old columns: PostgreSQL refused the newly derived ones: SQLSTATE 22003 1; e.g. 0@9 22003 numeric field overflow',
      ),
      lines.join('\n'),
    );
  });
});
