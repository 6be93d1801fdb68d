// A state folder left by the stack before Kafka 4: a Kafka "3.9.1" broker still running (its jars in
// a libs-3.9.1 folder) on KRaft data at metadata.version 3.9-IV0 and without our version stamp.
// `stack up` replaces the broker, opens the data in place, finalises the upgrade and keeps the
// records; `stack reset kafka` then starts it empty. Runs on free ports with its own state folder
// (the installed jars are shared), so the shared stack is not touched.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stackReset, stackUp } from '../../client/stack';
import { waitUntil } from '../../client/stack/health';
import { kafkaJavaArgs, kafkaLibsDir, kafkaService, writeKafkaConfig } from '../../client/stack/kafka';
import { KAFKA_VERSION } from '../../client/stack/kafka-data';
import { stackPaths } from '../../client/stack/paths';
import { readLivePid, runInstallStep, spawnDetached } from '../../client/stack/process';
import { loadConfig, type Config } from '../../lib/config';
import { createKafka } from '../../lib/kafka';
import { privateKafka, type PrivateKafka } from '../support/private-kafka';

const TOPIC = 'upgrade-check';
const RECORDS = 25;

async function readAll(cfg: Config, topic: string, expected: number): Promise<string[]> {
  const consumer = createKafka(cfg).consumer({ groupId: `upgrade-check-${randomBytes(4).toString('hex')}` });
  const values: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${values.length} of ${expected} records within 60 s`)), 60_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          values.push(message.value!.toString());
          if (values.length === expected) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return values.sort();
}

describe('a Kafka 3.9 state folder', { timeout: 10 * 60_000 }, () => {
  const base = loadConfig();
  let broker: PrivateKafka;
  let cfg: Config;
  let oldPid: number;

  before(async () => {
    broker = await privateKafka(base);
    cfg = broker.config;
    const tmp = cfg.ETL_STATE_DIR;
    const paths = stackPaths(cfg);
    // The earlier stack's broker ran from cache/kafka/libs-3.9.1: a folder of that name on the class path.
    const oldLibs = path.join(tmp, 'earlier-stack', 'libs-3.9.1');
    mkdirSync(path.dirname(oldLibs), { recursive: true });
    symlinkSync(kafkaLibsDir(base), oldLibs);
    const dataDir = paths.data('kafka');
    const props = writeKafkaConfig(cfg, dataDir);
    await runInstallStep(
      {
        command: 'java',
        args: kafkaJavaArgs(
          oldLibs,
          dataDir,
          'kafka.tools.StorageTool',
          'format',
          '-t',
          randomBytes(16).toString('base64url'),
          '-c',
          props,
          '--release-version',
          '3.9-IV0',
        ),
      },
      paths.log('kafka'),
    );
    oldPid = await spawnDetached(
      { command: 'java', args: kafkaJavaArgs(oldLibs, dataDir, 'kafka.Kafka', props), cwd: dataDir },
      paths.log('kafka'),
      paths.pidFile('kafka'),
    );
    await waitUntil(() => kafkaService.health(cfg, 3000), 90_000);
    const kafka = createKafka(cfg);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: TOPIC, numPartitions: 2, replicationFactor: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: TOPIC,
      messages: Array.from({ length: RECORDS }, (_, i) => ({ key: String(i), value: `record-${String(i).padStart(2, '0')}` })),
    });
    await producer.disconnect();
    assert.ok(!existsSync(path.join(dataDir, 'kafka-version')), 'the earlier stack wrote no version stamp');
  });

  after(async () => broker?.remove());

  it('stack up replaces the old broker, upgrades the data in place and keeps every record', async () => {
    const lines: string[] = [];
    await stackUp(cfg, { only: ['kafka'], log: (l) => lines.push(l) });
    const said = lines.join('\n');
    assert.match(said, new RegExp(`kafka: pid ${oldPid} runs Kafka 3\\.9\\.1, started by an earlier version of this project; stopping it`));
    assert.match(said, new RegExp(`holds data of Kafka 3\\.9\\.1; Kafka ${KAFKA_VERSION.replace(/\./g, '\\.')} opens it in place`));
    assert.match(said, /`etl stack reset kafka`/);
    assert.match(said, /kafka: upgrade finalised/);

    const paths = stackPaths(cfg);
    const newPid = readLivePid(paths.pidFile('kafka'), 'kafka.Kafka');
    assert.ok(newPid !== undefined && newPid !== oldPid);
    assert.equal(readFileSync(path.join(paths.data('kafka'), 'kafka-version'), 'utf8').trim(), KAFKA_VERSION);
    const expected = Array.from({ length: RECORDS }, (_, i) => `record-${String(i).padStart(2, '0')}`);
    assert.deepEqual(await readAll(cfg, TOPIC, RECORDS), expected);

    const features = spawnSync(
      'java',
      kafkaJavaArgs(
        kafkaLibsDir(base),
        paths.data('kafka'),
        'org.apache.kafka.tools.FeatureCommand',
        '--bootstrap-server',
        cfg.KAFKA_BROKERS[0]!,
        'describe',
      ),
      { encoding: 'utf8' },
    );
    const release = KAFKA_VERSION.split('.').slice(0, 2).join('\\.');
    assert.match(features.stdout, new RegExp(`Feature: metadata\\.version\\s.*FinalizedVersionLevel: ${release}-IV\\d`));
    // The new broker's log, from its start on: no error and no stack trace.
    const log = readFileSync(paths.log('kafka'), 'utf8');
    const fromStart = log.slice(log.lastIndexOf('starting: java'));
    assert.doesNotMatch(fromStart, / ERROR |\n\s+at [\w.$]+\(/);
  });

  it('stack reset kafka deletes the data; the next stack up starts an empty broker', async () => {
    const lines: string[] = [];
    await stackReset(cfg, 'kafka', { log: (l) => lines.push(l) });
    assert.match(lines.join('\n'), /kafka: deleted its data folder .*`etl stack up` starts it empty/);
    assert.equal(readLivePid(stackPaths(cfg).pidFile('kafka'), 'kafka.Kafka'), undefined);
    await stackUp(cfg, { only: ['kafka'] });
    const admin = createKafka(cfg).admin();
    await admin.connect();
    try {
      assert.deepEqual(
        (await admin.listTopics()).filter((t) => !t.startsWith('__')),
        [],
      );
    } finally {
      await admin.disconnect();
    }
  });
});
