// What `etl stack up` makes of the Kafka data folder it finds, from fake state folders: nothing yet,
// this release's, a 3.9 stack's (upgraded in place), or one Kafka 4 cannot open (a clear stop).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { kafkaService } from '../../client/stack/kafka';
import { compareReleases, inspectKafkaData, KAFKA_VERSION, PRE_STAMP_VERSION } from '../../client/stack/kafka-data';
import { stackPaths } from '../../client/stack/paths';
import { loadConfig } from '../../lib/config';
import { isEtlError } from '../../lib/errors';

const root = mkdtempSync(path.join(os.tmpdir(), 'etl-kafka-data-'));
let n = 0;

/** A data/kafka folder with the given meta.properties (none when undefined) and our stamp. */
function dataFolder(meta: string | undefined, stamp?: string): string {
  const dir = path.join(root, `case-${++n}`, 'data', 'kafka');
  mkdirSync(path.join(dir, 'kraft'), { recursive: true });
  if (meta !== undefined) writeFileSync(path.join(dir, 'kraft', 'meta.properties'), meta);
  if (stamp !== undefined) writeFileSync(path.join(dir, 'kafka-version'), `${stamp}\n`);
  return dir;
}

// As Kafka 3.9.1 writes it after `kafka-storage format` (KRaft, version=1).
const KRAFT_META =
  '#\n#Tue Dec 01 08:15:02 UTC 2026\nnode.id=1\ndirectory.id=8ToTDPJAC9qhronOPQQWYg\nversion=1\ncluster.id=puSKhkHVeZBajmgciX8orA\n';
// A ZooKeeper-mode broker's (version=0, broker.id instead of node.id).
const ZK_META = '#\nversion=0\nbroker.id=0\ncluster.id=Qm9vZ3VzQ2x1c3RlcklkMDAw\n';

describe('Kafka data folder', () => {
  after(() => rmSync(root, { recursive: true, force: true }));

  it('is empty before the first format', () => {
    assert.deepEqual(inspectKafkaData(dataFolder(undefined)), { kind: 'empty' });
  });

  it('is current when this stack formatted it with this release (any patch)', () => {
    assert.deepEqual(inspectKafkaData(dataFolder(KRAFT_META, KAFKA_VERSION)), { kind: 'current' });
    const [major, minor] = KAFKA_VERSION.split('.');
    assert.deepEqual(inspectKafkaData(dataFolder(KRAFT_META, `${major}.${minor}.99`)), { kind: 'current' });
  });

  it('a stack before Kafka 4 (KRaft data, no stamp) is upgraded in place from 3.9.1', () => {
    assert.equal(PRE_STAMP_VERSION, '3.9.1');
    assert.deepEqual(inspectKafkaData(dataFolder(KRAFT_META)), { kind: 'upgrade', from: '3.9.1' });
  });

  it('an older 4.x release is upgraded too', () => {
    assert.deepEqual(inspectKafkaData(dataFolder(KRAFT_META, '4.0.0'), '4.4.0'), { kind: 'upgrade', from: '4.0.0' });
  });

  it('refuses ZooKeeper-mode data, data of a newer release, KRaft data older than 3.3 and a broken meta.properties', () => {
    const cases: [string, string | undefined, RegExp][] = [
      [ZK_META, undefined, /ZooKeeper-mode broker.*KRaft mode only/],
      [KRAFT_META, '5.0.0', /written by Kafka 5\.0\.0, newer than/],
      [KRAFT_META, '3.2.3', /opens KRaft data of 3\.3 and later only/],
      ['node.id=1\n', undefined, /not the meta\.properties of a formatted KRaft broker/],
      [KRAFT_META, 'latest', /names no Kafka version/],
    ];
    for (const [meta, stamp, reason] of cases) {
      const state = inspectKafkaData(dataFolder(meta, stamp));
      assert.equal(state.kind, 'unusable', `${stamp ?? meta}`);
      assert.match((state as { reason: string }).reason, reason);
    }
  });

  it('stack up stops before starting a broker on unusable data, naming the reset command and what it deletes', async () => {
    const dataDir = dataFolder(ZK_META);
    const cfg = { ...loadConfig(), ETL_STATE_DIR: path.dirname(path.dirname(dataDir)) };
    const lines: string[] = [];
    await assert.rejects(kafkaService.prepare({ cfg, paths: stackPaths(cfg), log: (l) => lines.push(l) }), (err: unknown) => {
      assert.ok(isEtlError(err));
      assert.equal(err.code, 'STACK_START_FAILED');
      assert.match(err.message, /ZooKeeper-mode/);
      assert.match(err.message, /`etl stack reset kafka`/);
      assert.match(err.message, /bronze objects in S3 and the tables in PostgreSQL stay/);
      assert.doesNotMatch(err.message, /\n\s+at /); // no stack trace in what a person reads
      return true;
    });
    assert.deepEqual(lines, []);
  });

  it('compares releases by major.minor only', () => {
    assert.ok(compareReleases('3.9.1', '4.4.0') < 0);
    assert.ok(compareReleases('4.10.0', '4.4.0') > 0);
    assert.equal(compareReleases('4.4.7', '4.4.0'), 0);
  });
});
