// `etl poll <source>`: one poll of a market data source from the CLI process (no worker needed),
// through the same code as the scheduled pollMarketWorkflow.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { z } from 'zod';
import { allSymbolsFailed, pollSource, type PollResult } from '../../activities/poll/poll';
import { buildClients } from '../../lib/clients';
import { loadConfig } from '../../lib/config';
import { MARKET_SOURCES, type MarketSource } from '../../sources/market/types';
import { SYMBOL_PATTERN } from '../../streams/ticks/schema';
import { fmt, formatTable } from '../output';

/** --symbols AAPL,msft -> ['AAPL', 'MSFT']. */
export function marketSymbolList(value: string): string[] {
  const r = z
    .array(z.string().regex(SYMBOL_PATTERN))
    .min(1)
    .safeParse(
      value
        .split(',')
        .map((s) => s.trim().toUpperCase())
        .filter(Boolean),
    );
  if (!r.success) throw new InvalidArgumentError(`expected comma-separated symbols such as AAPL,MSFT or BTC-USD, got "${value}"`);
  return r.data;
}

export function formatPollResult(r: PollResult): string {
  const table = formatTable(
    ['symbol', 'fetched', 'published', 'unchanged', 'error'],
    r.symbols.map((s) => [
      s.symbol,
      fmt(s.fetched),
      fmt(s.published),
      fmt(s.unchanged),
      s.error ? `${s.error.code}: ${s.error.reason}` : '-',
    ]),
  );
  return (
    `${table}\n\n${r.source}: ${fmt(r.fetched)} ticks fetched, ${fmt(r.published)} published to topic ${r.topic}, ` +
    `${fmt(r.unchanged)} unchanged since the last poll, ${r.failedSymbols.length} of ${r.symbols.length} symbols failed`
  );
}

export function registerPollCommand(program: Command, say: (line: string) => void, setExitCode: (code: number) => void): void {
  program
    .command('poll')
    .description('poll a market data source once from here (no worker needed) and publish its new ticks to the ticks topic')
    .addArgument(program.createArgument('<source>', 'market data source').choices(MARKET_SOURCES))
    .addOption(new Option('--symbols <list>', 'comma-separated symbols (default: MARKET_SYMBOLS_<SOURCE>)').argParser(marketSymbolList))
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nOnly ticks newer than the last published ones are sent (table market_poll_state), so polling\n' +
        'again right away publishes nothing new. Exit code 1 if every symbol failed. Needs `etl migrate`,\n' +
        'Kafka and, for finnhub, FINNHUB_API_KEY. To poll on a schedule through the worker:\n' +
        '`etl schedule create poll --source yahoo --every 1m`.\n\n' +
        'Examples:\n  $ etl poll yahoo\n  $ etl poll finnhub --symbols AAPL,MSFT,NVDA\n  $ etl poll cryptocompare --symbols BTC-USD,ETH-EUR --json',
    )
    .action(async (source: MarketSource, o: { symbols?: string[]; json?: boolean }) => {
      const clients = buildClients(loadConfig());
      try {
        const r = await pollSource(clients, { source, symbols: o.symbols });
        say(o.json ? JSON.stringify(r, null, 2) : formatPollResult(r));
        if (allSymbolsFailed(r)) setExitCode(1);
      } finally {
        await clients.close();
      }
    });
}
