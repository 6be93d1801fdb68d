import { WEEKDAYS } from '../transactions/vocabulary';
import type { Tick } from './schema';
import { sessionAt } from './sessions';
import type { AssetClass, Session, TickSource } from './vocabulary';

/** Decimals kept for prices and volumes: the scale of their numeric columns in ticks_flat. */
export const TICK_DECIMALS = 8;
const MINUTE_MS = 60_000;

/**
 * A JSON number as the decimal its author wrote, rounded half-up to `decimals` places and without
 * trailing zeros: 0.1 + 0.2 gives "0.3", 1e-7 gives "0.0000001". Starting from the shortest text
 * that reads back as the same double (what JSON.stringify prints) avoids binary noise such as
 * 187.22999999999999.
 */
export function decimalString(value: number, decimals: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  const [mantissa, exponent = '0'] = String(Math.abs(value)).split('e');
  const [whole, fraction = ''] = mantissa!.split('.');
  const digits = whole! + fraction;
  const point = whole!.length + Number(exponent);
  const padded = point <= 0 ? '0'.repeat(1 - point) + digits : digits.padEnd(point, '0');
  const at = Math.max(point, 1);
  const intPart = padded.slice(0, at);
  const fracPart = padded.slice(at);
  let scaled = BigInt(intPart + fracPart.slice(0, decimals).padEnd(decimals, '0'));
  if ((fracPart[decimals] ?? '0') >= '5') scaled += 1n;
  const text = scaled.toString().padStart(decimals + 1, '0');
  const result = `${text.slice(0, text.length - decimals)}.${text.slice(text.length - decimals)}`.replace(/\.?0+$/, '');
  return value < 0 && scaled !== 0n ? `-${result}` : result;
}

/** One row of ticks_flat, as it travels in silver objects (snake_case, JSON-safe). */
export interface FlatTick {
  tick_id: string;
  symbol: string;
  source: TickSource;
  asset_class: AssetClass;
  event_ts: string;
  event_date: string;
  event_hour: number;
  event_dayofweek: string;
  /** The event time truncated to its UTC minute: the candle the tick belongs to. */
  minute_ts: string;
  session: Session;
  price: string;
  volume: string | null;
  currency: string;
  exchange: string | null;
}

/** Calendar fields and candle buckets are in UTC, as for transactions; only the session reads the New York clock. */
export function enrichTick(t: Tick): FlatTick {
  const ms = t.event_ts.getTime();
  const iso = t.event_ts.toISOString();
  return {
    tick_id: t.tick_id.toLowerCase(),
    symbol: t.symbol,
    source: t.source,
    asset_class: t.asset_class,
    event_ts: iso,
    event_date: iso.slice(0, 10),
    event_hour: t.event_ts.getUTCHours(),
    event_dayofweek: WEEKDAYS[t.event_ts.getUTCDay()]!,
    minute_ts: new Date(Math.floor(ms / MINUTE_MS) * MINUTE_MS).toISOString(),
    session: sessionAt(ms, t.asset_class),
    price: decimalString(t.price, TICK_DECIMALS),
    volume: t.volume === null ? null : decimalString(t.volume, TICK_DECIMALS),
    currency: t.currency,
    exchange: t.exchange ?? null,
  };
}
