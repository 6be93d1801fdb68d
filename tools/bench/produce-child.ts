// Run by producer.ts as `node --cpu-prof … produce-child.ts <rows> <seed> <startMs>`: produces the
// backlog the way `etl produce` does (PRODUCER_THREADS lanes) in a process of its own, so that the
// V8 profiler sees the main thread and every producer thread. Prints {"ms": …} on stdout.
import { buildClients } from '../../lib/clients';
import { loadConfig } from '../../lib/config';
import { produceTransactions } from '../../activities/ingest/produce';
import { topicFor } from '../../streams';

async function main(): Promise<void> {
  const [rows, seed, startMs] = process.argv.slice(2).map(Number);
  const clients = buildClients(loadConfig());
  try {
    const t0 = performance.now();
    await produceTransactions(clients.kafka, clients.config.KAFKA_BROKERS, {
      seed: seed!,
      startMs: startMs!,
      windowMs: 86_400_000,
      topic: topicFor(clients.config.KAFKA_TOPIC_PREFIX, 'transactions'),
      rows: rows!,
      threads: { count: clients.config.PRODUCER_THREADS, settings: clients.config },
    });
    process.stdout.write(`${JSON.stringify({ ms: performance.now() - t0 })}\n`);
  } finally {
    await clients.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
