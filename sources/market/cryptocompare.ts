// CryptoCompare's GET /data/pricemultifull?fsyms=BTC,ETH&tsyms=USD answers every pair in one request:
// RAW.{fsym}.{tsym}.{PRICE, LASTUPDATE (epoch s), LASTVOLUME, LASTMARKET, …}. Our symbols are
// BASE-QUOTE (BTC-USD <-> fsym BTC, tsym USD). Errors, rate limiting included, come as HTTP 200 with
// {Response: 'Error', Message}. A key is optional (header `authorization: Apikey KEY`).
import { z } from 'zod';
import { EtlError, isEtlError } from '../../lib/errors';
import { sourceHttp, type AdapterOptions, type SourceHttp } from './http';
import { excerpt, parseResponse, tickEvent, type FetchResult, type MarketAdapter, type SymbolFailure } from './types';

const PAIR = /^([A-Z0-9]{1,10})-([A-Z]{3,5})$/;

/** BTC-USD -> { fsym: BTC, tsym: USD }; undefined if the symbol is not BASE-QUOTE. */
export function pairOf(symbol: string): { fsym: string; tsym: string } | undefined {
  const m = PAIR.exec(symbol.toUpperCase());
  return m ? { fsym: m[1]!, tsym: m[2]! } : undefined;
}

const errorSchema = z.looseObject({
  Response: z.literal('Error'),
  Message: z.string(),
  Type: z.number().optional(),
  ParamWithError: z.string().optional(),
});
const rawSchema = z.looseObject({ RAW: z.record(z.string(), z.record(z.string(), z.unknown())) });
const pairSchema = z.looseObject({
  FROMSYMBOL: z.string(),
  TOSYMBOL: z.string().regex(/^[A-Za-z]{3}$/),
  PRICE: z.number().positive(),
  LASTUPDATE: z.number().int().positive(),
  LASTVOLUME: z.number().nonnegative().nullish(),
  LASTMARKET: z.string().nullish(),
});

const isRateLimit = (e: z.output<typeof errorSchema>) => e.Type === 99 || /rate limit/i.test(e.Message);

/** The ticks of one pricemultifull response for the requested symbols; pairs it lacks are unknown symbols. */
export function ticksFromPriceMultiFull(symbols: readonly string[], body: unknown): FetchResult {
  const result: FetchResult = { ticks: new Map(), failures: [] };
  const failed = (symbol: string, code: SymbolFailure['code'], reason: string) => result.failures.push({ symbol, code, reason });
  const error = errorSchema.safeParse(body);
  if (error.success) {
    const e = error.data;
    if (/api.?key/i.test(e.Message))
      throw new EtlError('SOURCE_AUTH_FAILED', `cryptocompare refused the API key: ${excerpt(e.Message)} — check CRYPTOCOMPARE_API_KEY`);
    if (/does not exist|no data/i.test(e.Message) || e.ParamWithError === 'fsyms' || e.ParamWithError === 'tsyms') {
      for (const s of symbols) failed(s, 'SOURCE_UNKNOWN_SYMBOL', `cryptocompare: ${excerpt(e.Message)}`);
      return result;
    }
    throw new EtlError('SOURCE_BAD_RESPONSE', `cryptocompare answered an error: ${excerpt(e.Message)}`);
  }
  const raw = parseResponse(rawSchema, body, "cryptocompare's pricemultifull").RAW;
  for (const symbol of symbols) {
    const pair = pairOf(symbol)!;
    const entry = raw[pair.fsym]?.[pair.tsym];
    if (entry === undefined) {
      failed(symbol, 'SOURCE_UNKNOWN_SYMBOL', `cryptocompare has no ${pair.fsym}/${pair.tsym} pair`);
      continue;
    }
    const q = pairSchema.safeParse(entry);
    if (!q.success) {
      const issues = q.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ');
      failed(symbol, 'SOURCE_BAD_RESPONSE', `cryptocompare's RAW.${pair.fsym}.${pair.tsym} is not in the documented format (${issues})`);
      continue;
    }
    try {
      result.ticks.set(symbol, [
        tickEvent('cryptocompare', {
          symbol,
          eventTsMs: q.data.LASTUPDATE * 1000,
          price: q.data.PRICE,
          volume: q.data.LASTVOLUME ?? null,
          currency: q.data.TOSYMBOL,
          exchange: q.data.LASTMARKET || null,
          assetClass: 'crypto',
        }),
      ]);
    } catch (err) {
      if (!isEtlError(err)) throw err;
      failed(symbol, err.code, err.message);
    }
  }
  return result;
}

export class CryptoCompareAdapter implements MarketAdapter {
  readonly source = 'cryptocompare';
  private readonly http: SourceHttp;
  private readonly apiKey: string;

  constructor(o: AdapterOptions) {
    this.http = sourceHttp('cryptocompare', { baseUrl: 'CRYPTOCOMPARE_BASE_URL', key: 'CRYPTOCOMPARE_API_KEY' }, o);
    this.apiKey = o.apiKey ?? '';
  }

  async fetch(symbols: readonly string[], signal?: AbortSignal): Promise<FetchResult> {
    const valid = symbols.filter((s) => pairOf(s));
    const malformed = symbols
      .filter((s) => !pairOf(s))
      .map((symbol): SymbolFailure => ({
        symbol,
        code: 'SOURCE_UNKNOWN_SYMBOL',
        reason: `cryptocompare symbols are BASE-QUOTE, e.g. BTC-USD; got ${symbol}`,
      }));
    if (valid.length === 0) return { ticks: new Map(), failures: malformed };
    const unique = (xs: string[]) => [...new Set(xs)].join(',');
    const res = await this.http.getJson(
      'data/pricemultifull',
      {
        fsyms: unique(valid.map((s) => pairOf(s)!.fsym)),
        tsyms: unique(valid.map((s) => pairOf(s)!.tsym)),
      },
      {
        signal,
        headers: this.apiKey ? { authorization: `Apikey ${this.apiKey}` } : {},
        rateLimitMessage: (body) => {
          const e = errorSchema.safeParse(body);
          return e.success && isRateLimit(e.data) ? e.data.Message : undefined;
        },
      },
    );
    if (res.status !== 200) throw new EtlError('SOURCE_BAD_RESPONSE', `cryptocompare answered HTTP ${res.status}`);
    const result = ticksFromPriceMultiFull(valid, res.body);
    result.failures.push(...malformed);
    return result;
  }
}
