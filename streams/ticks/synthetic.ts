// Simulated ticks for `etl produce ticks` and the ingest workflow: keyed by symbol (each symbol's
// ticks stay in order on one partition), Kafka timestamp = event time.
import { z } from 'zod';
import { parseGeneratorOptions } from '../synthetic';
import type { SyntheticMessage, SyntheticSource } from '../types';
import { SYMBOL_PATTERN } from './schema';
import { DEFAULT_INTERVAL_MS, DEFAULT_SYMBOLS, simulateTicks, startForRows, type SimulatorOptions } from './simulator';

const optionsSchema = z.object({
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  symbols: z
    .array(
      z
        .string()
        .transform((s) => s.trim().toUpperCase())
        .pipe(z.string().regex(SYMBOL_PATTERN, 'a symbol is 1-20 of A-Z 0-9 . - = ^')),
    )
    .min(1)
    .max(100)
    .refine((list) => new Set(list).size === list.length, 'each symbol once'),
  startMs: z.number().int(),
  intervalMs: z.number().int().min(1).max(86_400_000),
}) satisfies z.ZodType<SimulatorOptions, unknown>;

function* tickMessages(opts: SimulatorOptions, fromIndex: number): Generator<SyntheticMessage> {
  for (const tick of simulateTicks(opts, fromIndex)) {
    yield { key: tick.symbol, value: JSON.stringify(tick), timestamp: String(Date.parse(tick.event_ts)) };
  }
}

export const ticksSynthetic: SyntheticSource = {
  description: 'simulated market ticks: a seeded random walk per symbol, stocks in their trading sessions, crypto around the clock',
  flags: [
    {
      flags: '--symbols <list>',
      option: 'symbols',
      kind: 'list',
      description: 'comma-separated symbols (BTC-USD style pairs are crypto, others stocks)',
      default: [...DEFAULT_SYMBOLS],
      defaultDescription: DEFAULT_SYMBOLS.join(','),
    },
    {
      flags: '--seed <n>',
      option: 'seed',
      kind: 'seed',
      description: 'seed: the same seed, symbols and start give the same ticks',
      default: 42,
    },
    {
      flags: '--start <time>',
      option: 'startMs',
      kind: 'time',
      description: 'time of the first tick',
      defaultDescription: 'early enough for the ticks to end about now',
    },
    {
      flags: '--interval <duration>',
      option: 'intervalMs',
      kind: 'duration',
      description: 'mean gap between two ticks of one symbol in its regular session',
      default: DEFAULT_INTERVAL_MS,
      defaultDescription: '1s',
    },
  ],
  examples: [
    'etl produce ticks --rows 100000',
    'etl produce ticks --symbols AAPL,BTC-USD --rate 200 --rows 20000',
    'etl produce ticks --symbols ETH-USD --start 2026-11-23T00:00:00Z --interval 250ms --rows 5000 --seed 7',
  ],
  resolve(flags, { rows, nowMs }) {
    const base = {
      seed: flags.seed ?? 42,
      symbols: flags.symbols ?? [...DEFAULT_SYMBOLS],
      intervalMs: flags.intervalMs ?? DEFAULT_INTERVAL_MS,
      startMs: 0,
    };
    const opts = parseGeneratorOptions('ticks', optionsSchema, base);
    return { ...opts, startMs: (flags.startMs as number | undefined) ?? startForRows(rows, opts, nowMs) };
  },
  messages(options, fromIndex) {
    return tickMessages(parseGeneratorOptions('ticks', optionsSchema, options), fromIndex);
  },
};
