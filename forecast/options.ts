// What a forecast run may be asked for: parsed with zod wherever it enters (the activity, from a
// workflow input that a CLI, a schedule or another client built; the CLI, from flags).
import { z } from 'zod';
import { TICK_SOURCES } from '../streams/ticks/vocabulary';

/** Candle tables and views of migration 007 and their step. */
export const CANDLE_INTERVALS = { '1m': 60_000, '1h': 3_600_000, '1d': 86_400_000 } as const;
export type CandleInterval = keyof typeof CANDLE_INTERVALS;
export const INTERVAL_NAMES = Object.keys(CANDLE_INTERVALS) as CandleInterval[];

export const FORECAST_DEFAULTS = { lookbackMinutes: 1_440, horizonMinutes: 30, holdoutFraction: 0.2, interval: '1m' as CandleInterval };
/** Bounds the work of one fit (Holt's grid search is linear in the series length). */
export const MAX_LOOKBACK_STEPS = 50_000;
export const MAX_HORIZON_STEPS = 1_000;

export const symbolSchema = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9][A-Z0-9.\-=^]{0,19}$/, 'a symbol is 1-20 of A-Z 0-9 . - = ^');

const minutes = (what: string) => z.number().int(`${what} must be whole minutes`).positive(`${what} must be above 0`);

export const forecastRequestSchema = z
  .strictObject({
    /** Only these symbols; all symbols with candles when absent. */
    symbols: z.array(symbolSchema).min(1).max(1_000).optional(),
    /** Only this source; every source of each symbol when absent. */
    source: z.enum(TICK_SOURCES).optional(),
    lookbackMinutes: minutes('lookbackMinutes').default(FORECAST_DEFAULTS.lookbackMinutes),
    horizonMinutes: minutes('horizonMinutes').default(FORECAST_DEFAULTS.horizonMinutes),
    holdoutFraction: z.number().min(0).max(0.5, 'holdoutFraction is at most 0.5').default(FORECAST_DEFAULTS.holdoutFraction),
    interval: z.enum(INTERVAL_NAMES).default(FORECAST_DEFAULTS.interval),
  })
  .superRefine((r, ctx) => {
    const stepMinutes = CANDLE_INTERVALS[r.interval] / 60_000;
    if (r.lookbackMinutes / stepMinutes > MAX_LOOKBACK_STEPS) {
      ctx.addIssue({
        code: 'custom',
        path: ['lookbackMinutes'],
        message: `a lookback of ${r.lookbackMinutes} minutes is more than ${MAX_LOOKBACK_STEPS} candles of ${r.interval}`,
      });
    }
    if (Math.ceil(r.horizonMinutes / stepMinutes) > MAX_HORIZON_STEPS) {
      ctx.addIssue({
        code: 'custom',
        path: ['horizonMinutes'],
        message: `a horizon of ${r.horizonMinutes} minutes is more than ${MAX_HORIZON_STEPS} candles of ${r.interval}`,
      });
    }
  });

export type ForecastRequest = z.input<typeof forecastRequestSchema>;
export type ForecastSettings = z.output<typeof forecastRequestSchema>;

/** Forecast points: one per candle interval, covering at least the horizon. */
export function horizonSteps(s: Pick<ForecastSettings, 'horizonMinutes' | 'interval'>): number {
  return Math.ceil((s.horizonMinutes * 60_000) / CANDLE_INTERVALS[s.interval]);
}

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
}
