// Outside streams/, code finds streams through the registry: the CLI offers every declared stream,
// keys are parsed by the stream's key type, and producing goes through the stream's own source.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { parseRecordKey } from '../../client/commands/lineage';
import { namesStream } from '../../client/commands/status';
import { buildProgram } from '../../client/program';
import { syntheticSourceOf } from '../../activities/ingest/produce';
import { transactionMessage } from '../../streams/transactions/synthetic';
import { getStream, streamNames, topicFor } from '../../streams';
import { syntheticTransaction } from '../../streams/transactions/generator';

const sub = (cmd: Command, name: string) => cmd.commands.find((c) => c.name() === name);

describe('stream registry', () => {
  it('declares transactions and ticks, each with its own topic', () => {
    assert.deepEqual(streamNames(), ['ticks', 'transactions']);
    assert.equal(topicFor('t-1-', 'ticks'), 't-1-ticks');
    assert.throws(() => getStream('nope'), /known streams: ticks, transactions/);
  });

  it('offers every declared stream to the commands that take one', () => {
    const program = buildProgram(() => undefined);
    const produce = sub(program, 'produce')!;
    assert.deepEqual(
      produce.commands.map((c) => c.name()),
      streamNames().filter((s) => getStream(s).synthetic),
    );
    for (const [path, option] of [
      [['run', 'pipeline'], '--stream'],
      [['quarantine', 'list'], '--stream'],
      [['replay'], '--stream'],
      [['lineage'], '--stream'],
    ] as const) {
      const cmd = path.reduce<Command>((c, name) => sub(c, name)!, program);
      assert.deepEqual(cmd.options.find((o) => o.long === option)?.argChoices, streamNames(), path.join(' '));
    }
    const start = sub(sub(program, 'stream')!, 'start')!;
    assert.deepEqual(start.registeredArguments[0]!.argChoices, streamNames());
  });

  it('gives `etl produce ticks` the simulator flags and `etl produce transactions` its old ones', () => {
    const produce = sub(
      buildProgram(() => undefined),
      'produce',
    )!;
    const flags = (name: string) => sub(produce, name)!.options.map((o) => o.long);
    assert.deepEqual(flags('ticks'), ['--rows', '--rate', '--json', '--symbols', '--seed', '--start', '--interval']);
    assert.deepEqual(flags('transactions'), ['--rows', '--rate', '--json', '--seed', '--start', '--window']);
  });

  it("produces transactions exactly as before: message i is the generator's event i, keyed by user", () => {
    const options = { seed: 3, startMs: Date.parse('2026-11-20T00:00:00Z'), windowMs: 86_400_000 };
    const messages = syntheticSourceOf('transactions').messages(options, 10);
    for (let i = 10; i < 20; i++) {
      const m = messages.next().value!;
      const event = syntheticTransaction(i, options);
      assert.deepEqual(m, { key: String(event.user_id), value: JSON.stringify(event), timestamp: String(Date.parse(event.event_ts)) });
      assert.deepEqual(m, transactionMessage(i, options));
    }
  });

  it("parses a lineage key by the stream's key type", () => {
    const tx = getStream('transactions');
    assert.equal(parseRecordKey(tx, 'A3BB189E-8BF9-3888-9912-ACE4E6543002'), 'a3bb189e-8bf9-3888-9912-ace4e6543002');
    assert.throws(() => parseRecordKey(tx, '42'), /transaction_id \(uuid\) of stream transactions/);
    assert.throws(() => parseRecordKey(getStream('ticks'), undefined), /tick_id \(uuid\) of stream ticks/);
    const counters = { name: 'counters', keyColumn: 'counter_id', keyType: 'bigint' };
    assert.equal(parseRecordKey(counters, '1234567890123'), '1234567890123');
    assert.throws(() => parseRecordKey(counters, '12a'), /counter_id \(bigint\)/);
    assert.equal(parseRecordKey({ name: 'codes', keyColumn: 'code', keyType: 'text' }, ' EUR-1 '), 'EUR-1');
  });

  it('matches runs and schedules to a stream by a whole part of their id', () => {
    assert.ok(namesStream('pipeline-ticks-2026-11-22T13:05:12Z', 'ticks'));
    assert.ok(namesStream('stream-ticks', 'ticks'));
    assert.ok(namesStream('pipeline-transactions', 'transactions'));
    assert.ok(!namesStream('stream-transactions', 'trans'));
    assert.ok(!namesStream('pipeline-stockticks-2026', 'ticks'));
  });
});
