// Each market source's settings from config, and the adapter built from them.
import { z } from 'zod';
import type { Config } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { CryptoCompareAdapter } from './cryptocompare';
import { FinnhubAdapter } from './finnhub';
import type { AdapterOptions } from './http';
import { MARKET_SOURCES, type MarketAdapter, type MarketSource } from './types';
import { YahooAdapter } from './yahoo';

/** Used for a source that MARKET_POLL_EVERY / MARKET_REQUESTS_PER_MINUTE leave out. */
const BUILT_IN: Record<MarketSource, { everyMs: number; requestsPerMinute: number }> = {
  yahoo: { everyMs: 60_000, requestsPerMinute: 30 }, // its bars are one minute long
  finnhub: { everyMs: 30_000, requestsPerMinute: 50 }, // free tier: 60 calls/minute
  cryptocompare: { everyMs: 60_000, requestsPerMinute: 30 }, // free tier: a monthly call budget; one call per poll
};

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** "yahoo=1m,finnhub=30s" -> { yahoo: '1m', finnhub: '30s' } (config has already checked the shape). */
function perSource(value: string): Partial<Record<MarketSource, string>> {
  return Object.fromEntries(value.split(',').map((pair) => pair.split('=') as [string, string]));
}

export const marketSourceSchema = z.enum(MARKET_SOURCES);

export function parseMarketSource(value: unknown): MarketSource {
  const r = marketSourceSchema.safeParse(value);
  if (!r.success) throw new EtlError('USAGE', `unknown market source ${JSON.stringify(value)}; choose one of ${MARKET_SOURCES.join(', ')}`);
  return r.data;
}

export interface SourceSettings {
  baseUrl: string;
  apiKey: string;
  symbols: string[];
  everyMs: number;
  requestsPerMinute: number;
}

export function sourceSettings(config: Config, source: MarketSource): SourceSettings {
  const every = perSource(config.MARKET_POLL_EVERY)[source];
  const rpm = perSource(config.MARKET_REQUESTS_PER_MINUTE)[source];
  const common = {
    everyMs: every ? Number(every.slice(0, -1)) * UNIT_MS[every.slice(-1) as keyof typeof UNIT_MS] : BUILT_IN[source].everyMs,
    requestsPerMinute: rpm ? Number(rpm) : BUILT_IN[source].requestsPerMinute,
  };
  switch (source) {
    case 'yahoo':
      return { ...common, baseUrl: config.YAHOO_BASE_URL, apiKey: '', symbols: config.MARKET_SYMBOLS_YAHOO };
    case 'finnhub':
      return { ...common, baseUrl: config.FINNHUB_BASE_URL, apiKey: config.FINNHUB_API_KEY, symbols: config.MARKET_SYMBOLS_FINNHUB };
    case 'cryptocompare':
      return {
        ...common,
        baseUrl: config.CRYPTOCOMPARE_BASE_URL,
        apiKey: config.CRYPTOCOMPARE_API_KEY,
        symbols: config.MARKET_SYMBOLS_CRYPTOCOMPARE,
      };
  }
}

export function createAdapter(source: MarketSource, options: AdapterOptions): MarketAdapter {
  switch (source) {
    case 'yahoo':
      return new YahooAdapter(options);
    case 'finnhub':
      return new FinnhubAdapter(options);
    case 'cryptocompare':
      return new CryptoCompareAdapter(options);
  }
}

/** The adapter of a source as config describes it; `http` lets tests shorten timeouts and backoff. */
export function adapterFor(config: Config, source: MarketSource, http?: AdapterOptions['http']): MarketAdapter {
  const s = sourceSettings(config, source);
  return createAdapter(source, { baseUrl: s.baseUrl, apiKey: s.apiKey, requestsPerMinute: s.requestsPerMinute, http });
}
