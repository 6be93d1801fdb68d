// What one price tick must look like to enter silver, whichever source produced it (simulator,
// Yahoo Finance, Finnhub, CryptoCompare). Unknown extra fields are allowed and kept in the raw payload.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isoTimestamp, type EventTimeBounds } from '../time';
import { ASSET_CLASSES, TICK_SOURCES, type TickSource } from './vocabulary';

export const MAX_PRICE = 1e9;
/** Prices and volumes keep 8 decimals (numeric(20,8), numeric(28,8)): a smaller price would round to 0. */
export const MIN_PRICE = 1e-8;
/** Well inside numeric(28,8); more than any venue trades between two ticks. */
export const MAX_VOLUME = 1e15;
/**
 * Ticks further than this from their record's reference time (its archive time) are implausible:
 * clock bugs, seconds-vs-milliseconds mix-ups. Checked by the stream's checkReferenceTime.
 */
export const MAX_TICK_SKEW_MS: EventTimeBounds = { past: 20 * 365 * 86_400_000, future: 3_600_000 };

/** A ticker as exchanges and data vendors write it (AAPL, BRK.B, BTC-USD, EURUSD=X, ^GSPC), upper-cased. */
export const SYMBOL_PATTERN = /^[A-Z0-9^][A-Z0-9.\-=^]{0,19}$/;

const finite = (what: string) => z.number().refine((v) => Number.isFinite(v), `${what} must be finite`);

/** The shape of a tick; no clock in it (plausible event times: MAX_TICK_SKEW_MS, in ./index.ts). */
export function tickSchema() {
  return z.looseObject({
    tick_id: z.uuid(),
    symbol: z
      .string()
      .transform((s) => s.trim().toUpperCase())
      .pipe(z.string().regex(SYMBOL_PATTERN, 'symbol must be 1-20 of A-Z 0-9 . - = ^')),
    source: z.enum(TICK_SOURCES),
    asset_class: z.enum(ASSET_CLASSES),
    event_ts: isoTimestamp('event_ts'),
    price: finite('price').pipe(z.number().min(MIN_PRICE, `price must be at least ${MIN_PRICE} (8 decimals are kept)`).max(MAX_PRICE)),
    /** Quantity traded since the previous tick of this symbol and source; null when the source does not say. */
    volume: finite('volume').pipe(z.number().nonnegative().max(MAX_VOLUME)).nullable(),
    currency: z
      .string()
      .transform((s) => s.toUpperCase())
      .pipe(z.string().regex(/^[A-Z]{3}$/, 'currency must be a 3-letter ISO code')),
    exchange: z.string().trim().min(1).max(40).nullish(),
  });
}

export type Tick = z.output<ReturnType<typeof tickSchema>>;
/** A tick as producers publish it (JSON on the `ticks` topic). */
export type TickEvent = z.input<ReturnType<typeof tickSchema>>;

/**
 * The key of a tick: a UUID derived from (source, symbol, event time), so polling the same quote
 * twice, or re-running a simulator with the same seed, yields the same key and loads once.
 */
export function tickId(source: TickSource, symbol: string, eventTsMs: number): string {
  const h = createHash('sha1').update(`${source}|${symbol.toUpperCase()}|${eventTsMs}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50; // version 5 (name-based, SHA-1)
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
