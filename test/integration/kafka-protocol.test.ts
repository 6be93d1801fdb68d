// kafkajs against the stack's Kafka 4 broker, at the protocol level. Kafka 4.0 removed old versions of
// many requests (KIP-896); kafkajs picks min(its newest, the broker's newest) for every request and
// never looks at the broker's oldest, so a request whose newest kafkajs version the broker dropped
// would fail. This asks the broker for its ranges (ApiVersions) and checks every request kafkajs has.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import net from 'node:net';
import { describe, it } from 'node:test';
import { parseHostPort } from '../../client/stack/paths';
import { loadConfig } from '../../lib/config';

interface Range {
  min: number;
  max: number;
}

/** ApiVersions v0 over a plain socket: the broker's supported version range of every API key. */
function brokerApiVersions(address: string): Promise<Map<number, Range>> {
  const { host, port } = parseHostPort(address);
  const clientId = Buffer.from('etl-protocol-test');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  body.writeInt16BE(18, 0); // ApiVersions
  body.writeInt16BE(0, 2); // version 0
  body.writeInt32BE(1, 4); // correlation id
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port }, () => socket.write(Buffer.concat([size, body])));
    let data = Buffer.alloc(0);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no ApiVersions answer within 10 s')));
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length < 4 || data.length < 4 + data.readInt32BE(0)) return;
      socket.end();
      const errorCode = data.readInt16BE(8);
      if (errorCode !== 0) return reject(new Error(`ApiVersions error code ${errorCode}`));
      const count = data.readInt32BE(10);
      const ranges = new Map<number, Range>();
      for (let i = 0, at = 14; i < count; i++, at += 6)
        ranges.set(data.readInt16BE(at), { min: data.readInt16BE(at + 2), max: data.readInt16BE(at + 4) });
      resolve(ranges);
    });
  });
}

// kafkajs 2.2.4's request table (not part of its typed API, but fixed for a pinned version).
const kafkajsRequire = createRequire(require.resolve('kafkajs'));
const { requests } = kafkajsRequire('./src/protocol/requests') as { requests: Record<string, { versions: string[] }> };
const apiKeys = kafkajsRequire('./src/protocol/requests/apiKeys') as Record<string, number>;

describe('kafkajs and the Kafka 4 broker', () => {
  it('the broker is 4.x: Fetch v0-v3 are gone (KIP-896)', async () => {
    const ranges = await brokerApiVersions(loadConfig().KAFKA_BROKERS[0]!);
    assert.ok(ranges.get(apiKeys.Fetch!)!.min >= 4, `Fetch ${JSON.stringify(ranges.get(apiKeys.Fetch!))}`);
  });

  it('every request kafkajs implements is served at the version kafkajs sends', async () => {
    const ranges = await brokerApiVersions(loadConfig().KAFKA_BROKERS[0]!);
    const checked: string[] = [];
    const broken: string[] = [];
    for (const [name, request] of Object.entries(requests)) {
      const ours = request.versions.map(Number);
      if (ours.length === 0) continue; // kafkajs does not implement it (broker-internal or admin extras)
      const theirs = ranges.get(apiKeys[name]!);
      const sent = theirs ? Math.min(Math.max(...ours), theirs.max) : undefined;
      if (!theirs || sent! < theirs.min || !ours.includes(sent!))
        broken.push(`${name}: kafkajs ${ours.join(',')}, broker ${theirs ? `${theirs.min}-${theirs.max}` : 'none'}`);
      else checked.push(`${name} v${sent}`);
    }
    console.log(`  kafkajs sends: ${checked.join(', ')}`);
    assert.deepEqual(broken, []);
    // The ones the pipeline depends on are among them.
    for (const name of [
      'Produce',
      'Fetch',
      'ListOffsets',
      'Metadata',
      'OffsetCommit',
      'OffsetFetch',
      'JoinGroup',
      'SyncGroup',
      'Heartbeat',
      'CreateTopics',
      'DeleteTopics',
      'DeleteGroups',
      'InitProducerId',
    ]) {
      assert.ok(
        checked.some((c) => c.startsWith(`${name} v`)),
        name,
      );
    }
  });
});
