// Which Kafka wrote the local broker's data folder, and whether the Kafka this stack runs can open it.
// Read from files only (nothing runs), so `stack up` decides before it starts a broker.
//
// data/kafka/kraft/meta.properties is Kafka's own: version=1 for KRaft storage, version=0 for a
// ZooKeeper-mode broker. data/kafka/kafka-version is ours, written when this stack formats the
// folder or finishes an upgrade. Stacks before Kafka 4 wrote no such file and only ever ran 3.9.1.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The newest Apache Kafka 4.x that Maven Central serves (org.apache.kafka:kafka_2.13). */
export const KAFKA_VERSION = '4.4.0';
/** What a data folder without our stamp holds: the only version stacks before Kafka 4 ran. */
export const PRE_STAMP_VERSION = '3.9.1';
/** Kafka 4 opens KRaft data of 3.3 and later (metadata.version 3.3-IV3 is its minimum). */
const OLDEST_READABLE: readonly number[] = [3, 3];

export type KafkaDataState =
  { kind: 'empty' } | { kind: 'current' } | { kind: 'upgrade'; from: string } | { kind: 'unusable'; reason: string };

const stampFile = (dataDir: string) => path.join(dataDir, 'kafka-version');
const metaFile = (dataDir: string) => path.join(dataDir, 'kraft', 'meta.properties');

export function kafkaDataStamp(dataDir: string): string | undefined {
  return existsSync(stampFile(dataDir)) ? readFileSync(stampFile(dataDir), 'utf8').trim() || undefined : undefined;
}

export function markKafkaData(dataDir: string, version: string): void {
  writeFileSync(stampFile(dataDir), `${version}\n`);
}

function parseProperties(text: string): Map<string, string> {
  const props = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([^#!\s=:][^=:]*?)\s*[=:]\s*(.*?)\s*$/.exec(line);
    if (m) props.set(m[1]!, m[2]!);
  }
  return props;
}

const parts = (version: string) =>
  version
    .split('.')
    .slice(0, 2)
    .map((p) => Number.parseInt(p, 10));

/**
 * Negative, zero or positive as release `a` is older than, the same as, or newer than `b`. Only
 * major.minor count: a release's patch versions share its on-disk format and feature levels.
 */
export function compareReleases(a: string, b: string): number {
  const [x, y] = [parts(a), parts(b)];
  return x[0]! - y[0]! || (x[1] ?? 0) - (y[1] ?? 0);
}

export function inspectKafkaData(dataDir: string, current = KAFKA_VERSION): KafkaDataState {
  const meta = metaFile(dataDir);
  if (!existsSync(meta)) return { kind: 'empty' };
  const props = parseProperties(readFileSync(meta, 'utf8'));
  const version = props.get('version');
  if (version === '0') {
    return {
      kind: 'unusable',
      reason: `${path.dirname(meta)} belongs to a ZooKeeper-mode broker (meta.properties version=0), and Kafka 4 runs in KRaft mode only`,
    };
  }
  if (version !== '1' || !props.get('cluster.id') || !props.get('node.id')) {
    return {
      kind: 'unusable',
      reason: `${meta} is not the meta.properties of a formatted KRaft broker (version=${version ?? 'missing'}, cluster.id and node.id required)`,
    };
  }
  const from = kafkaDataStamp(dataDir) ?? PRE_STAMP_VERSION;
  if (!/^\d+\.\d+\.\d+$/.test(from))
    return { kind: 'unusable', reason: `${stampFile(dataDir)} names no Kafka version (${JSON.stringify(from)})` };
  const cmp = compareReleases(from, current);
  if (cmp === 0) return { kind: 'current' };
  if (cmp > 0) {
    return {
      kind: 'unusable',
      reason: `${dataDir} was written by Kafka ${from}, newer than the ${current} this project runs, and a KRaft cluster cannot be moved back to an older release`,
    };
  }
  if (compareReleases(from, OLDEST_READABLE.join('.')) < 0) {
    return {
      kind: 'unusable',
      reason: `${dataDir} was written by Kafka ${from}; Kafka ${current} opens KRaft data of ${OLDEST_READABLE.join('.')} and later only`,
    };
  }
  return { kind: 'upgrade', from };
}
