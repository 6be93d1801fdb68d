// Command-line values are outside input: each is parsed with zod and refused with a clear message.
import { InvalidArgumentError } from 'commander';
import { z } from 'zod';

function parser<T>(schema: z.ZodType<T>, what: string): (value: string) => T {
  return (value: string) => {
    const r = schema.safeParse(value);
    if (!r.success) throw new InvalidArgumentError(`expected ${what}, got "${value}"`);
    return r.data;
  };
}

export const positiveInt = parser(z.coerce.number().int().positive().max(1_000_000_000), 'a whole number above 0');
export const nonNegativeInt = parser(z.coerce.number().int().min(0).max(1_000_000_000), 'a whole number, 0 or more');
export const seed = parser(z.coerce.number().int().min(0).max(2 ** 32 - 1), 'a seed from 0 to 4294967295');
export const isoTime = parser(
  z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a time').transform((s) => Date.parse(s)),
  'an ISO-8601 time such as 2026-11-22T00:00:00Z',
);
const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export const duration = parser(
  z.string().regex(DURATION).transform((s) => {
    const [, n, unit] = DURATION.exec(s)!;
    return Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }),
  'a duration such as 30s, 15m, 24h or 7d',
);
export const idList = parser(
  z.string().regex(/^\d+(,\d+)*$/).transform((s) => s.split(',').map(Number)),
  'comma-separated ids such as 12,13',
);
export const nameList = parser(
  z.string().regex(/^[^,\s]+(,[^,\s]+)*$/).transform((s) => s.split(',')),
  'a comma-separated list without spaces, such as AAPL,BTC-USD',
);
