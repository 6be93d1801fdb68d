// `etl worker`: connects, prepares the servers, and runs until SIGINT/SIGTERM, then drains
// in-flight activities (graceful shutdown is the SDK's default on those signals).
import { buildClients } from '../lib/clients';
import type { Config } from '../lib/config';
import { setupAll } from '../lib/setup';
import { connectWorkerConnection } from '../lib/temporal';
import { streamTopics } from '../streams';
import { createWorker } from './worker';

export async function runWorker(config: Config): Promise<void> {
  const clients = buildClients(config);
  const log = clients.logger.child({ component: 'worker', taskQueue: config.TEMPORAL_TASK_QUEUE });
  try {
    await setupAll(clients, streamTopics(config.KAFKA_TOPIC_PREFIX));
    const connection = await connectWorkerConnection(config);
    try {
      const worker = await createWorker({
        connection,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        deps: clients,
      });
      log.info('worker started; Ctrl-C to stop');
      await worker.run();
      log.info('worker stopped');
    } finally {
      await connection.close();
    }
  } finally {
    await clients.close();
  }
}
