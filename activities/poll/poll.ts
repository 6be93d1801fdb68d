// One poll of a market data source: fetch the latest quotes, keep what is newer than what was
// published before, publish it to the ticks topic, remember it. Used by the pollSource activity
// (scheduled polls) and by `etl poll` (from the CLI process, no worker needed).
import type { Message } from 'kafkajs';
import { z } from 'zod';
import { EtlError, isTransient } from '../../lib/errors';
import { ensureTopic, withKafkaErrors } from '../../lib/kafka';
import { adapterFor, parseMarketSource, sourceSettings } from '../../sources/market/settings';
import { lastPublished, recordPublished } from '../../sources/market/state';
import type { MarketAdapter, MarketSource, SymbolFailure } from '../../sources/market/types';
import { withPostgresErrors } from '../../lib/postgres';
import { SYMBOL_PATTERN, type TickEvent } from '../../streams/ticks/schema';
import { topicFor } from '../../streams';
import type { ActivityDeps } from '../deps';

export interface PollInput {
  source: MarketSource;
  /** Default: the source's MARKET_SYMBOLS_* of the process that polls. */
  symbols?: string[];
}

export interface SymbolPollResult {
  symbol: string;
  fetched: number;
  published: number;
  unchanged: number;
  error?: { code: string; reason: string };
}

/** Counts only: the ticks themselves travel through Kafka. */
export interface PollResult {
  source: MarketSource;
  topic: string;
  fetched: number;
  published: number;
  unchanged: number;
  failedSymbols: SymbolFailure[];
  symbols: SymbolPollResult[];
}

const SEND_BATCH = 1_000;
const symbolsSchema = z
  .array(z.string().trim().toUpperCase().regex(SYMBOL_PATTERN, 'symbols are 1-20 of A-Z 0-9 . - = ^'))
  .min(1, 'no symbols to poll');

function tickMessage(t: TickEvent): Message {
  // Keyed by symbol: one symbol's ticks stay in order on one partition.
  return { key: t.symbol, value: JSON.stringify(t), timestamp: String(Date.parse(t.event_ts)) };
}

async function publish(deps: Pick<ActivityDeps, 'config' | 'kafka'>, topic: string, ticks: TickEvent[]): Promise<void> {
  const { kafka, config } = deps;
  await withKafkaErrors(config.KAFKA_BROKERS, async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopic(admin, topic, config.KAFKA_TOPIC_PARTITIONS, config.KAFKA_REPLICATION_FACTOR);
    } finally {
      await admin.disconnect();
    }
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    try {
      for (let i = 0; i < ticks.length; i += SEND_BATCH) {
        await producer.send({ topic, acks: -1, messages: ticks.slice(i, i + SEND_BATCH).map(tickMessage) });
      }
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
  });
}

export interface PollOptions {
  /** Another adapter than config's (tests: short timeouts, a fake clock). */
  adapter?: MarketAdapter;
  signal?: AbortSignal;
}

export async function pollSource(
  deps: Pick<ActivityDeps, 'config' | 'pool' | 'kafka' | 'logger'>,
  input: PollInput,
  opts: PollOptions = {},
): Promise<PollResult> {
  const { config, pool } = deps;
  const source = parseMarketSource(input.source);
  const parsed = symbolsSchema.safeParse(input.symbols ?? sourceSettings(config, source).symbols);
  if (!parsed.success) throw new EtlError('USAGE', `symbols to poll: ${parsed.error.issues[0]!.message}`);
  const symbols = [...new Set(parsed.data)];
  const topic = topicFor(config.KAFKA_TOPIC_PREFIX, 'ticks');

  const fetched = await (opts.adapter ?? adapterFor(config, source)).fetch(symbols, opts.signal);
  const last = await withPostgresErrors(config.DATABASE_URL, () => lastPublished(pool, source, symbols));

  const fresh: TickEvent[] = [];
  const newest: TickEvent[] = [];
  const perSymbol = symbols.map((symbol): SymbolPollResult => {
    const failure = fetched.failures.find((f) => f.symbol === symbol);
    if (failure) return { symbol, fetched: 0, published: 0, unchanged: 0, error: { code: failure.code, reason: failure.reason } };
    const ticks = fetched.ticks.get(symbol) ?? [];
    const after = last.get(symbol) ?? -Infinity;
    const mine = ticks.filter((t) => Date.parse(t.event_ts) > after).sort((a, b) => Date.parse(a.event_ts) - Date.parse(b.event_ts));
    fresh.push(...mine);
    if (mine.length) newest.push(mine[mine.length - 1]!);
    return { symbol, fetched: ticks.length, published: mine.length, unchanged: ticks.length - mine.length };
  });

  if (fresh.length) {
    await publish(deps, topic, fresh);
    // Recorded only once Kafka has acknowledged. A crash in between publishes these ticks again on
    // the next poll, under the same deterministic keys (tickId) and with the same bytes, so the
    // pipeline counts them as duplicates and loads each once anyway.
    await withPostgresErrors(config.DATABASE_URL, () => recordPublished(pool, source, newest));
  }

  const sum = (k: 'fetched' | 'published' | 'unchanged') => perSymbol.reduce((n, s) => n + s[k], 0);
  const result: PollResult = {
    source,
    topic,
    fetched: sum('fetched'),
    published: sum('published'),
    unchanged: sum('unchanged'),
    failedSymbols: fetched.failures,
    symbols: perSymbol,
  };
  deps.logger.info(
    {
      source,
      topic,
      fetched: result.fetched,
      published: result.published,
      unchanged: result.unchanged,
      failed: result.failedSymbols.length,
    },
    'market poll',
  );
  return result;
}

/**
 * What a scheduled poll does when no symbol could be polled at all: fail, with a retryable code if
 * any symbol's failure may pass (so Temporal tries again), else with the first symbol's code.
 */
export function allSymbolsFailed(r: PollResult): EtlError | undefined {
  if (r.symbols.length === 0 || r.failedSymbols.length < r.symbols.length) return undefined;
  const first = r.failedSymbols.find((f) => isTransient(f.code)) ?? r.failedSymbols[0]!;
  const listed = r.failedSymbols.map((f) => `${f.symbol}: ${f.reason}`).join('; ');
  return new EtlError(first.code, `every symbol of ${r.source} failed — ${listed}`);
}
