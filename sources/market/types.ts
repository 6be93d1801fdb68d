// What every market data adapter does: fetch the latest quotes of some symbols and hand them back as
// TickEvents (the contract of streams/ticks/schema.ts), with per-symbol failures kept apart.
import type { z } from 'zod';
import { EtlError, isEtlError, type ErrorCode } from '../../lib/errors';
import { MAX_TICK_SKEW_MS, tickId, tickSchema, type TickEvent } from '../../streams/ticks/schema';
import { eventTimeIssue } from '../../streams/time';
import type { AssetClass } from '../../streams/ticks/vocabulary';

export const MARKET_SOURCES = ['yahoo', 'finnhub', 'cryptocompare'] as const;
export type MarketSource = (typeof MARKET_SOURCES)[number];

/** A symbol the source could not answer for; the others of the same poll are unaffected. */
export interface SymbolFailure {
  symbol: string;
  code: ErrorCode;
  reason: string;
}

export interface FetchResult {
  /** Ticks per requested symbol, oldest first; an empty list is a symbol with nothing to report (market closed). */
  ticks: Map<string, TickEvent[]>;
  failures: SymbolFailure[];
}

export interface MarketAdapter {
  readonly source: MarketSource;
  /** Throws an EtlError for what concerns the whole source (no key, bad key, unreachable, rate limited). */
  fetch(symbols: readonly string[], signal?: AbortSignal): Promise<FetchResult>;
}

export interface TickFields {
  symbol: string;
  eventTsMs: number;
  price: number;
  volume: number | null;
  currency: string;
  exchange: string | null;
  assetClass: AssetClass;
}

const contract = tickSchema();

/**
 * The event published for one observation. Only the source's own data goes in (no fetch time), so
 * the same observation polled twice is the same message, byte for byte, under the same key. It is
 * checked against the contract here, so what the pipeline would quarantine is refused at the source.
 */
export function tickEvent(source: MarketSource, f: TickFields): TickEvent {
  const symbol = f.symbol.toUpperCase();
  const event: TickEvent = {
    tick_id: tickId(source, symbol, f.eventTsMs),
    symbol,
    source,
    asset_class: f.assetClass,
    event_ts: new Date(f.eventTsMs).toISOString(),
    price: f.price,
    volume: f.volume,
    currency: f.currency.toUpperCase(),
    exchange: f.exchange,
  };
  const checked = contract.safeParse(event);
  // At the source the fetch time stands in for the archive time the pipeline will judge it against.
  const late = checked.success ? eventTimeIssue('event_ts', f.eventTsMs, Date.now(), MAX_TICK_SKEW_MS) : undefined;
  if (!checked.success || late) {
    const issues = checked.success
      ? `${late!.path}: ${late!.message}`
      : checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new EtlError('SOURCE_BAD_RESPONSE', `${source} gave ${symbol} a tick that breaks the tick contract (${issues})`);
  }
  return event;
}

/** The first `max` characters of an upstream message, on one line (they end up in logs and tables). */
export function excerpt(text: string, max = 160): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** What one symbol's failure may be without the rest of the poll failing with it. */
const SYMBOL_SCOPED = new Set<ErrorCode>(['SOURCE_UNKNOWN_SYMBOL', 'SOURCE_BAD_RESPONSE', 'SOURCE_UNAVAILABLE']);

/**
 * Fetches symbol by symbol (one request each): a symbol-scoped failure is recorded and the next
 * symbol goes ahead; a failure of the whole source (key, reachability, rate limit) ends the poll.
 */
export async function fetchEach(symbols: readonly string[], fetchOne: (symbol: string) => Promise<TickEvent[]>): Promise<FetchResult> {
  const result: FetchResult = { ticks: new Map(), failures: [] };
  for (const symbol of symbols) {
    try {
      result.ticks.set(symbol, await fetchOne(symbol));
    } catch (err) {
      if (!isEtlError(err) || !SYMBOL_SCOPED.has(err.code)) throw err;
      result.failures.push({ symbol, code: err.code, reason: err.message });
    }
  }
  return result;
}

/** Outside data is unknown until parsed: a body that is not the documented format is SOURCE_BAD_RESPONSE, naming the fields. */
export function parseResponse<S extends z.ZodType>(schema: S, body: unknown, what: string): z.output<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issues = r.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
    .join('; ');
  throw new EtlError('SOURCE_BAD_RESPONSE', `${what} is not in the documented format (${issues})`);
}
