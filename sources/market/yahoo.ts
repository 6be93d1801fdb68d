// Yahoo Finance's chart endpoint (what yfinance reads): GET /v8/finance/chart/{symbol}?interval=1m&range=1d
// answers today's one-minute bars. Each finished bar with a close becomes a tick at the bar's time
// with the bar's volume. No key; an unknown symbol is a 404 with {chart:{result:null,error:{…}}}.
import { z } from 'zod';
import { EtlError } from '../../lib/errors';
import type { TickEvent } from '../../streams/ticks/schema';
import { sourceHttp, type AdapterOptions, type SourceHttp } from './http';
import { fetchEach, parseResponse, tickEvent, type FetchResult, type MarketAdapter } from './types';

const BAR_SECONDS = 60;
const series = z.array(z.number().nullable());

const resultSchema = z.looseObject({
  meta: z.looseObject({
    currency: z.string().regex(/^[A-Za-z]{3}$/),
    symbol: z.string().min(1),
    exchangeName: z.string().nullish(),
    instrumentType: z.string().nullish(),
    regularMarketTime: z.number().int().nullish(),
    currentTradingPeriod: z.looseObject({ regular: z.looseObject({ start: z.number().int(), end: z.number().int() }) }).nullish(),
  }),
  // Absent, with indicators.quote [{}], when the range holds no bars yet (before the open).
  timestamp: z.array(z.number().int()).optional(),
  indicators: z.looseObject({ quote: z.array(z.looseObject({ close: series.optional(), volume: series.optional() })) }),
});

const chartSchema = z.object({
  chart: z.object({
    result: z.array(resultSchema).nullable(),
    error: z.object({ code: z.string(), description: z.string() }).nullable(),
  }),
});
export type YahooChart = z.output<typeof chartSchema>;

export const parseChart = (symbol: string, body: unknown): YahooChart => parseResponse(chartSchema, body, `yahoo's chart of ${symbol}`);

/** The ticks of one chart response. The bar of the minute still running is left for the next poll. */
export function ticksFromChart(requested: string, chart: YahooChart): TickEvent[] {
  const result = chart.chart.result?.[0];
  if (!result) throw new EtlError('SOURCE_BAD_RESPONSE', `yahoo returned no chart result for ${requested}`);
  const { meta } = result;
  const times = result.timestamp ?? [];
  const quote = result.indicators.quote[0] ?? {};
  const closes = quote.close ?? [];
  const volumes = quote.volume ?? [];
  if (closes.length !== times.length || (quote.volume && volumes.length !== times.length)) {
    throw new EtlError(
      'SOURCE_BAD_RESPONSE',
      `yahoo chart of ${requested} has ${times.length} timestamps but ${closes.length} closes and ${volumes.length} volumes`,
    );
  }
  const sessionOver =
    meta.regularMarketTime != null && meta.currentTradingPeriod != null && meta.regularMarketTime >= meta.currentTradingPeriod.regular.end;
  const ticks: TickEvent[] = [];
  times.forEach((t, i) => {
    const close = closes[i];
    if (close == null) return; // a minute without trades
    const last = i === times.length - 1;
    const running = last && !sessionOver && meta.regularMarketTime != null && meta.regularMarketTime < t + BAR_SECONDS;
    if (running) return;
    if (!(close > 0)) throw new EtlError('SOURCE_BAD_RESPONSE', `yahoo chart of ${requested} has a close of ${close} at ${t}`);
    ticks.push(
      tickEvent('yahoo', {
        symbol: requested,
        eventTsMs: t * 1000,
        price: close,
        volume: volumes[i] ?? null,
        currency: meta.currency,
        exchange: meta.exchangeName ?? null,
        assetClass: meta.instrumentType === 'CRYPTOCURRENCY' ? 'crypto' : 'stock',
      }),
    );
  });
  return ticks;
}

export class YahooAdapter implements MarketAdapter {
  readonly source = 'yahoo';
  private readonly http: SourceHttp;

  constructor(o: AdapterOptions) {
    this.http = sourceHttp('yahoo', { baseUrl: 'YAHOO_BASE_URL' }, o);
  }

  async fetchSymbol(symbol: string, signal?: AbortSignal): Promise<TickEvent[]> {
    const res = await this.http.getJson(`v8/finance/chart/${encodeURIComponent(symbol)}`, { interval: '1m', range: '1d' }, { signal });
    const error = z.object({ chart: z.object({ error: z.object({ code: z.string(), description: z.string() }) }) }).safeParse(res.body);
    if (res.status === 404 || (error.success && error.data.chart.error.code === 'Not Found')) {
      const why = error.success ? error.data.chart.error.description : `HTTP ${res.status}`;
      throw new EtlError('SOURCE_UNKNOWN_SYMBOL', `yahoo does not know ${symbol}: ${why}`);
    }
    if (error.success)
      throw new EtlError(
        'SOURCE_BAD_RESPONSE',
        `yahoo refused the chart of ${symbol}: ${error.data.chart.error.code}: ${error.data.chart.error.description}`,
      );
    if (res.status !== 200) throw new EtlError('SOURCE_BAD_RESPONSE', `yahoo answered HTTP ${res.status} for ${symbol}`);
    return ticksFromChart(symbol, parseChart(symbol, res.body));
  }

  fetch(symbols: readonly string[], signal?: AbortSignal): Promise<FetchResult> {
    return fetchEach(symbols, (s) => this.fetchSymbol(s, signal));
  }
}
