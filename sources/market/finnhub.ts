// Finnhub's quote endpoint: GET /api/v1/quote?symbol=AAPL&token=KEY answers the latest trade price
// `c` at time `t` (epoch seconds) with the day's open/high/low and the previous close. It does not
// say the volume (null) nor the currency: the free tier covers US exchanges, which quote in USD.
// An unknown symbol is not an error but a quote of zeros (c: 0, t: 0).
import { z } from 'zod';
import { EtlError } from '../../lib/errors';
import type { TickEvent } from '../../streams/ticks/schema';
import { sourceHttp, type AdapterOptions, type SourceHttp } from './http';
import { excerpt, fetchEach, parseResponse, tickEvent, type FetchResult, type MarketAdapter } from './types';

export const FINNHUB_KEY_HELP = 'FINNHUB_API_KEY is not set — get a free key at https://finnhub.io/register and put it in .env';

const quoteSchema = z.looseObject({
  c: z.number(),
  d: z.number().nullish(),
  dp: z.number().nullish(),
  h: z.number(),
  l: z.number(),
  o: z.number(),
  pc: z.number(),
  t: z.number().int().nonnegative(),
});
export type FinnhubQuote = z.output<typeof quoteSchema>;

export const parseQuote = (symbol: string, body: unknown): FinnhubQuote => parseResponse(quoteSchema, body, `finnhub's quote of ${symbol}`);

/** One tick per quote; the poll's de-duplication drops it while `t` stays the same (market closed). */
export function tickFromQuote(symbol: string, q: FinnhubQuote): TickEvent {
  if (q.c === 0 && q.t === 0) throw new EtlError('SOURCE_UNKNOWN_SYMBOL', `finnhub does not know ${symbol} (it answered a quote of zeros)`);
  if (!(q.c > 0) || q.t === 0) throw new EtlError('SOURCE_BAD_RESPONSE', `finnhub quoted ${symbol} at ${q.c} at time ${q.t}`);
  return tickEvent('finnhub', {
    symbol,
    eventTsMs: q.t * 1000,
    price: q.c,
    volume: null,
    currency: 'USD',
    exchange: null,
    assetClass: 'stock',
  });
}

export class FinnhubAdapter implements MarketAdapter {
  readonly source = 'finnhub';
  private readonly http: SourceHttp;
  private readonly apiKey: string;

  constructor(o: AdapterOptions) {
    this.http = sourceHttp('finnhub', { baseUrl: 'FINNHUB_BASE_URL', key: 'FINNHUB_API_KEY' }, o);
    this.apiKey = o.apiKey ?? '';
  }

  async fetchSymbol(symbol: string, signal?: AbortSignal): Promise<TickEvent[]> {
    const res = await this.http.getJson('api/v1/quote', { symbol, token: this.apiKey }, { signal });
    if (res.status !== 200) {
      const message = z.object({ error: z.string() }).safeParse(res.body);
      throw new EtlError(
        'SOURCE_BAD_RESPONSE',
        `finnhub answered HTTP ${res.status} for ${symbol}${message.success ? `: ${excerpt(message.data.error)}` : ''}`,
      );
    }
    return [tickFromQuote(symbol, parseQuote(symbol, res.body))];
  }

  fetch(symbols: readonly string[], signal?: AbortSignal): Promise<FetchResult> {
    if (!this.apiKey) return Promise.reject(new EtlError('SOURCE_KEY_MISSING', FINNHUB_KEY_HELP));
    return fetchEach(symbols, (s) => this.fetchSymbol(s, signal));
  }
}
