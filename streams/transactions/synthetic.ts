// Synthetic card transactions for `etl produce transactions` and the ingest workflow. Each event is
// a pure function of (seed, index), so a producer resumes anywhere without replaying the others.
import { z } from 'zod';
import { fromIndex, parseGeneratorOptions } from '../synthetic';
import type { SyntheticMessage, SyntheticSource } from '../types';
import { syntheticTransactionAt, type GeneratorOptions } from './generator';

const DAY_MS = 86_400_000;

const optionsSchema = z.object({
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  startMs: z.number().int(),
  windowMs: z.number().int().positive(),
});

export function transactionMessage(index: number, opts: GeneratorOptions): SyntheticMessage {
  const { event, eventMs } = syntheticTransactionAt(index, opts);
  return {
    key: String(event.user_id), // per-user ordering, like a card network
    value: JSON.stringify(event),
    // CreateTime = event time, so bronze objects are partitioned by when events happened.
    timestamp: String(eventMs),
  };
}

export const transactionsSynthetic: SyntheticSource = {
  description: 'synthetic card transactions, event times spread uniformly over a window',
  flags: [
    { flags: '--seed <n>', option: 'seed', kind: 'seed', description: 'seed: the same seed gives the same events', default: 42 },
    {
      flags: '--start <time>',
      option: 'startMs',
      kind: 'time',
      description: 'earliest event time',
      defaultDescription: 'now minus --window',
    },
    {
      flags: '--window <duration>',
      option: 'windowMs',
      kind: 'duration',
      description: 'event times spread over this window after --start',
      default: DAY_MS,
      defaultDescription: '24h',
    },
  ],
  examples: ['etl produce transactions --rows 100000', 'etl produce transactions --rows 5000 --rate 1000 --seed 7'],
  resolve(flags, { nowMs }) {
    const windowMs = (flags.windowMs as number | undefined) ?? DAY_MS;
    return parseGeneratorOptions('transactions', optionsSchema, {
      seed: flags.seed ?? 42,
      windowMs,
      startMs: flags.startMs ?? nowMs - windowMs,
    });
  },
  messages(options, start) {
    const opts = parseGeneratorOptions('transactions', optionsSchema, options);
    return fromIndex(start, (i) => transactionMessage(i, opts));
  },
};
