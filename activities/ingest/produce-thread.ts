// A producer lane's worker thread (see ./lanes.ts): makes the messages of each range it is handed
// from the stream's synthetic source and sends them through its own idempotent producer.
import { parentPort, workerData } from 'node:worker_threads';
import { createKafka } from '../../lib/kafka';
import { getStream } from '../../streams';
import { localLane, messagesOf, toLaneFailure, type KafkaSettings, type Lane, type LaneSource } from './lanes';

const { settings, source } = workerData as { settings: KafkaSettings; source: LaneSource };
const port = parentPort!;

async function main(): Promise<void> {
  const synthetic = getStream(source.stream).synthetic!;
  let lane: Lane;
  try {
    lane = await localLane(
      createKafka(settings),
      settings.KAFKA_BROKERS,
      (from, to) => messagesOf(synthetic, source.options, from, to),
      source.topic,
    );
  } catch (err) {
    port.postMessage({ failed: toLaneFailure(err) });
    return;
  }
  port.postMessage({ ready: true });
  port.on('message', (m: { from: number; to: number } | { close: true }) => {
    if ('close' in m) {
      void lane.close().then(() => port.close());
      return;
    }
    lane.send(m.from, m.to).then(
      () => port.postMessage({ acked: true }),
      (err: unknown) => port.postMessage({ failed: toLaneFailure(err) }),
    );
  });
}

void main();
