// `etl forecast run` starts forecastWorkflow on the worker (so runs show in the Web UI like the
// scheduled ones); `etl forecast show` reads the latest fit per symbol and model from PostgreSQL.
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import { buildClients } from '../../lib/clients';
import { loadConfig, temporalUiUrl, type Config } from '../../lib/config';
import { scopedId } from '../../lib/deployment';
import { EtlError } from '../../lib/errors';
import {
  FORECAST_DEFAULTS,
  INTERVAL_NAMES,
  describeIssues,
  forecastRequestSchema,
  symbolSchema,
  type ForecastRequest,
} from '../../forecast/options';
import { latestForecasts } from '../../forecast/store';
import { withPostgresErrors } from '../../lib/postgres';
import { connectClient, readableWorkflowId } from '../../lib/temporal';
import { TICK_SOURCES } from '../../streams/ticks/vocabulary';
import type { ForecastResult } from '../../workflows';
import { duration } from '../args';
import { formatForecastResult, formatLatest } from './forecast-format';
import { hasWorker } from './pipeline';

type Say = (line: string) => void;

const symbolList = (value: string): string[] => {
  const r = z
    .array(symbolSchema)
    .min(1)
    .safeParse(
      value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
  if (!r.success) throw new InvalidArgumentError(`expected comma-separated symbols such as AAPL,BTC-USD, got "${value}"`);
  return r.data;
};
const fraction = (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 0.5))
    throw new InvalidArgumentError(`expected a fraction from 0 to 0.5 such as 0.2, got "${value}"`);
  return n;
};

export interface RunOptions {
  symbols?: string[];
  source?: string;
  interval: string;
  lookback: number;
  horizon: number;
  holdout: number;
}

/** The workflow input of the flags, checked like the activity will check it. */
export function forecastRequest(o: RunOptions): ForecastRequest {
  for (const [flag, ms] of [
    ['--lookback', o.lookback],
    ['--horizon', o.horizon],
  ] as const) {
    if (ms % 60_000 !== 0) throw new EtlError('USAGE', `${flag} must be whole minutes, e.g. 30m, 6h or 1d`);
  }
  const request = {
    symbols: o.symbols,
    source: o.source,
    interval: o.interval,
    lookbackMinutes: o.lookback / 60_000,
    horizonMinutes: o.horizon / 60_000,
    holdoutFraction: o.holdout,
  };
  const r = forecastRequestSchema.safeParse(request);
  if (!r.success) throw new EtlError('USAGE', describeIssues(r.error));
  return Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined)) as ForecastRequest;
}

export async function startForecast(client: Client, config: Config, request: ForecastRequest): Promise<WorkflowHandle> {
  return client.workflow.start('forecastWorkflow', {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId: scopedId(config, readableWorkflowId('forecast', 'ticks')),
    args: [request],
  });
}

export function registerForecastCommands(program: Command, say: Say, setExitCode: (code: number) => void): void {
  const forecast = program
    .command('forecast')
    .description('baseline price forecasts (linear trend, Holt) from the candles of the ticks stream; not investment advice');

  forecast
    .command('run')
    .description("fit both models on each symbol's latest candles and write price_forecasts (needs a running worker)")
    .addOption(
      new Option('--symbols <list>', 'only these symbols, comma-separated (default: every symbol with candles)').argParser(symbolList),
    )
    .addOption(
      new Option('--source <name>', 'only candles of this source (default: each source of a symbol separately)').choices(TICK_SOURCES),
    )
    .addOption(new Option('--interval <interval>', 'candles to fit').choices(INTERVAL_NAMES).default(FORECAST_DEFAULTS.interval))
    .addOption(
      new Option('--lookback <duration>', "window of candles to fit, ending at each symbol's last candle")
        .argParser(duration)
        .default(FORECAST_DEFAULTS.lookbackMinutes * 60_000, '1d'),
    )
    .addOption(
      new Option('--horizon <duration>', 'how far past the last candle to forecast')
        .argParser(duration)
        .default(FORECAST_DEFAULTS.horizonMinutes * 60_000, '30m'),
    )
    .addOption(
      new Option('--holdout <fraction>', 'share of the window held out to score the models (MAE, RMSE)')
        .argParser(fraction)
        .default(FORECAST_DEFAULTS.holdoutFraction),
    )
    .option('--wait', 'wait for the run and print its result per symbol and model')
    .option('--json', 'with --wait: print the result as JSON')
    .addHelpText(
      'after',
      '\nEach symbol needs at least 20 candles in the window; fewer and it is skipped with the reason.\n' +
        'Running the same fit on the same candles again changes no row. Schedule it with\n`etl schedule create forecast --every 15m`.\n\n' +
        'Examples:\n  $ etl forecast run --wait\n  $ etl forecast run --symbols AAPL,BTC-USD --horizon 30m --lookback 1d --wait\n  $ etl forecast run --interval 1h --lookback 7d --horizon 6h',
    )
    .action(async (o: RunOptions & { wait?: boolean; json?: boolean }) => {
      const request = forecastRequest(o);
      const config = loadConfig();
      const client = await connectClient(config);
      try {
        const handle = await startForecast(client, config, request);
        (o.json && o.wait ? (line: string) => process.stderr.write(`${line}\n`) : say)(
          `started ${handle.workflowId}: ${temporalUiUrl(config, handle.workflowId)}`,
        );
        if (!(await hasWorker(client, config))) {
          process.stderr.write(
            `warning: no worker polls task queue "${config.TEMPORAL_TASK_QUEUE}"; the run waits until one does — start it with \`etl worker\`\n`,
          );
        }
        if (!o.wait) return;
        const result = (await handle.result()) as ForecastResult;
        say(o.json ? JSON.stringify(result, null, 2) : formatForecastResult(result));
        if (result.symbolsForecast === 0) setExitCode(1);
      } finally {
        await client.connection.close();
      }
    });

  forecast
    .command('show')
    .description("the latest forecast per symbol and model: predicted at the horizon's end, 95% interval, holdout MAE/RMSE")
    .addOption(new Option('--symbol <symbol>', 'only this symbol').argParser((v: string) => symbolList(v)[0]!))
    .addOption(new Option('--source <name>', 'only this source').choices(TICK_SOURCES))
    .addOption(new Option('--interval <interval>', 'only fits on these candles').choices(INTERVAL_NAMES))
    .option('--json', 'machine-readable output, with every point of the horizon')
    .addHelpText('after', '\nExamples:\n  $ etl forecast show\n  $ etl forecast show --symbol BTC-USD --json')
    .action(async (o: { symbol?: string; source?: string; interval?: string; json?: boolean }) => {
      const clients = buildClients(loadConfig());
      try {
        const rows = await withPostgresErrors(clients.config.DATABASE_URL, () => latestForecasts(clients.pool, o));
        if (o.json) say(JSON.stringify(rows, null, 2));
        else say(rows.length ? formatLatest(rows) : 'no forecast yet' + (o.symbol ? ` for ${o.symbol}` : '') + '; run `etl forecast run`');
        if (rows.length === 0) setExitCode(1);
      } finally {
        await clients.close();
      }
    });
}
