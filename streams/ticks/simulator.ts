// Simulated market ticks: a geometric random walk per symbol on one merged timeline. Stocks tick
// only in their sessions (thinly before and after the regular one), crypto around the clock. The
// walk is sequential, so tick i depends on the ticks before it; it is still a pure function of
// (seed, symbols, start, interval, i): a producer resuming at index i recomputes the walk up to i
// (about a second per million ticks) and sends the very same messages.
import { Rng } from '../../lib/random';
import { tickId, type TickEvent } from './schema';
import { sessionAt } from './sessions';
import { profileOf, type SymbolProfile } from './profiles';
import type { Session } from './vocabulary';

export const DEFAULT_SYMBOLS = ['AAPL', 'MSFT', 'GOOGL', 'BTC-USD', 'ETH-USD'] as const;
/** Mean gap between two ticks of one symbol at full activity (regular session, or crypto). */
export const DEFAULT_INTERVAL_MS = 1_000;

export interface SimulatorOptions {
  seed: number;
  symbols: readonly string[];
  /** No tick is earlier than this. */
  startMs: number;
  intervalMs: number;
}

/** How busy a symbol is, relative to its regular session: outside it, stocks trade thinly or not at all. */
const ACTIVITY: Record<Session, number> = { regular: 1, continuous: 1, pre: 0.15, post: 0.15, closed: 0 };

export function activityAt(p: SymbolProfile, ms: number): number {
  return ACTIVITY[sessionAt(ms, p.assetClass)];
}

const YEAR_MS = 365.25 * 86_400_000;
const MINUTE_MS = 60_000;

interface Step {
  k: number;
  ms: number;
  price: number;
  volume: number;
}

export class TickSimulator {
  private readonly rng: Rng;
  private readonly profiles: SymbolProfile[];
  private readonly indices: number[];
  private readonly prices: number[];
  private readonly lastTickMs: (number | undefined)[];
  /** The time of the latest tick (or just before the start): ticks are strictly increasing, so no two share a tick_id. */
  private clock: number;
  /** Every stock shares one calendar, which changes only at whole minutes: asked once per minute. */
  private stockMinute = Number.NaN;
  private stockSession: Session = 'closed';

  constructor(private readonly opts: SimulatorOptions) {
    if (opts.symbols.length === 0) throw new Error('the simulator needs at least one symbol');
    this.rng = new Rng(opts.seed, 0x71c5);
    this.profiles = opts.symbols.map(profileOf);
    this.indices = this.profiles.map((_, k) => k);
    this.prices = this.profiles.map((p) => p.startPrice);
    this.lastTickMs = this.profiles.map(() => undefined);
    this.clock = opts.startMs - 1;
  }

  next(): TickEvent {
    return this.event(this.step());
  }

  /** Advances past `n` ticks without building them (resuming at an index). */
  skip(n: number): void {
    for (let i = 0; i < n; i++) this.step();
  }

  private sessionOf(p: SymbolProfile, ms: number): Session {
    if (p.assetClass === 'crypto') return 'continuous';
    const minute = Math.floor(ms / MINUTE_MS);
    if (minute !== this.stockMinute) {
      this.stockMinute = minute;
      this.stockSession = sessionAt(ms, 'stock');
    }
    return this.stockSession;
  }

  private activities(ms: number): number[] {
    return this.profiles.map((p) => ACTIVITY[this.sessionOf(p, ms)]);
  }

  private step(): Step {
    for (;;) {
      const busy = this.activities(this.clock).reduce((a, b) => a + b, 0);
      if (busy === 0) {
        this.clock = this.nextActiveMinute(this.clock) - 1;
        continue;
      }
      // The next tick of the merged timeline: mean gap interval / (sum of activities), jittered ±50%.
      const at = this.clock + Math.max(1, Math.round((this.opts.intervalMs * (0.5 + this.rng.next())) / busy));
      const weights = this.activities(at);
      this.clock = at;
      if (weights.every((w) => w === 0)) continue; // the gap crossed into a closed market
      return this.move(this.rng.weighted(this.indices, weights), at);
    }
  }

  private nextActiveMinute(ms: number): number {
    let minute = Math.floor(ms / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    while (this.activities(minute).every((w) => w === 0)) minute += MINUTE_MS;
    return minute;
  }

  /** A standard normal draw (Box-Muller). */
  private normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.rng.next())) * Math.cos(2 * Math.PI * this.rng.next());
  }

  private move(k: number, ms: number): Step {
    const p = this.profiles[k]!;
    const last = this.lastTickMs[k];
    if (last !== undefined) {
      // Geometric Brownian motion without drift: the variance of the log return grows with the time
      // since this symbol's previous tick (a weekend gap moves a stock more than a second does).
      const dt = (ms - last) / YEAR_MS;
      this.prices[k]! *= Math.exp(-0.5 * p.volatility ** 2 * dt + p.volatility * Math.sqrt(dt) * this.normal());
    }
    this.lastTickMs[k] = ms;
    const session = this.sessionOf(p, ms);
    const priceScale = this.prices[k]! >= 1 ? 100 : 1_000_000;
    const volumeScale = 10 ** p.volumeDecimals;
    // Log-normal trade sizes; pre- and after-hours trades are smaller as well as rarer.
    const median = p.medianVolume * (session === 'pre' || session === 'post' ? 0.4 : 1);
    return {
      k,
      ms,
      price: Math.max(1, Math.round(this.prices[k]! * priceScale)) / priceScale,
      volume: Math.max(1, Math.round(median * Math.exp(this.normal()) * volumeScale)) / volumeScale,
    };
  }

  private event(s: Step): TickEvent {
    const p = this.profiles[s.k]!;
    return {
      tick_id: tickId('simulator', p.symbol, s.ms),
      symbol: p.symbol,
      source: 'simulator',
      asset_class: p.assetClass,
      event_ts: new Date(s.ms).toISOString(),
      price: s.price,
      volume: s.volume,
      currency: 'USD',
      exchange: p.exchange,
    };
  }
}

/** Ticks `fromIndex`, `fromIndex + 1`, … of the simulation (the ones before are computed and dropped). */
export function* simulateTicks(opts: SimulatorOptions, fromIndex = 0): Generator<TickEvent> {
  const sim = new TickSimulator(opts);
  sim.skip(fromIndex);
  for (;;) yield sim.next();
}

/**
 * A start such that `rows` ticks are expected to end at `endMs`: walks back minute by minute,
 * adding the ticks each minute is expected to hold at its symbols' activity. Used when no start is
 * given, so that produced ticks are recent without lying in the future.
 */
export function startForRows(rows: number, opts: Pick<SimulatorOptions, 'symbols' | 'intervalMs'>, endMs: number): number {
  const profiles = opts.symbols.map(profileOf);
  const limit = endMs - 20 * YEAR_MS;
  let minute = Math.floor(endMs / MINUTE_MS) * MINUTE_MS;
  let expected = 0;
  while (expected < rows && minute > limit) {
    minute -= MINUTE_MS;
    expected += profiles.reduce((sum, p) => sum + activityAt(p, minute), 0) * (MINUTE_MS / opts.intervalMs);
  }
  return minute;
}
