// `etl worker`: the Temporal worker in this process (worker/main.ts).
import type { Command } from 'commander';
import { loadConfig } from '../../lib/config';
import { runWorker } from '../../worker/main';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run a Temporal worker for every pipeline workflow and activity (Ctrl-C stops it gracefully)')
    .addHelpText(
      'after',
      '\nLogs are JSON lines on stderr; lines written by an activity carry its workflow and activity ids.\n' +
        'Prometheus metrics (SDK runtime, pipeline counters, etl_consumer_lag) are at http://METRICS_HOST:METRICS_PORT/metrics.\n\n' +
        'Examples:\n  $ etl worker\n  $ LOG_LEVEL=debug METRICS_PORT=9465 etl worker',
    )
    .action(async () => runWorker(loadConfig()));
}
