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
export const seed = parser(
  z.coerce
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  'a seed from 0 to 4294967295',
);

/** What every time flag's --help says: a time without an offset is UTC, whatever the machine's zone. */
export const TIME_FLAG_FORMAT = 'ISO-8601; UTC unless it carries an offset';

// A date, or a date and time to the minute or beyond, with or without an offset. Without one it is
// UTC: a command means the same instant on every machine, never the local time zone's reading.
const CLI_TIME = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2})(:\d{2}(?:\.\d{1,9})?)?)?(Z|[+-]\d{2}:\d{2})?$/;
const instant = z.iso.datetime({ offset: true });

/** `2026-11-22`, `2026-11-22T06:00`, `2026-11-22T06:00:00+01:00`, … as epoch ms; no offset means UTC. */
export function cliTimeMs(value: string): number | undefined {
  const m = CLI_TIME.exec(value.trim());
  if (!m) return undefined;
  const [, date, hm, seconds, offset] = m;
  if (!hm && offset) return undefined; // "2026-11-22Z" is no ISO-8601 form
  const full = `${date}T${hm ?? '00:00'}${seconds ?? ':00'}${offset ?? 'Z'}`;
  return instant.safeParse(full).success ? Date.parse(full) : undefined;
}

export const isoTime = parser(
  z
    .string()
    .refine((s) => cliTimeMs(s) !== undefined, 'not a time')
    .transform((s) => cliTimeMs(s)!),
  'an ISO-8601 time such as 2026-11-22T00:00:00Z (UTC unless it carries an offset such as +01:00)',
);

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Longer than any flag needs, and far inside what Temporal and timers can represent. */
const MAX_DURATION_MS = 3_650 * UNIT_MS.d;

/** "90s" -> "1m30s": a bound as a person writes it. */
export function durationText(ms: number): string {
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [
    ['d', UNIT_MS.d],
    ['h', UNIT_MS.h],
    ['m', UNIT_MS.m],
    ['s', UNIT_MS.s],
    ['ms', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('') || '0s';
}

/**
 * A duration flag with the range its consumer accepts, e.g. `boundedDuration({ min: 1_000 })` for a
 * Temporal schedule interval: out of range is a usage error naming the range, not a failure later.
 */
export function boundedDuration(range: { min?: number; max?: number } = {}): (value: string) => number {
  const min = range.min ?? 0;
  const max = Math.min(range.max ?? MAX_DURATION_MS, MAX_DURATION_MS);
  const what = `a duration from ${durationText(min)} to ${durationText(max)} such as 30s, 15m, 24h or 7d`;
  return parser(
    z
      .string()
      .regex(DURATION)
      .transform((s) => {
        const [, n, unit] = DURATION.exec(s)!;
        return Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
      })
      .pipe(z.number().min(min).max(max)),
    what,
  );
}

/** Any duration (0 included) up to ten years; flags whose consumer needs more say so with boundedDuration. */
export const duration = boundedDuration();

// Duration flags with the range of what consumes them: out of range is a usage error (exit 2) naming it.
export const SCHEDULE_INTERVAL = boundedDuration({ min: 1_000, max: 365 * 86_400_000 });
export const CATCHUP_WINDOW = boundedDuration({ min: 10_000 });
export const WAIT_TIMEOUT = boundedDuration({ min: 1_000 });
export const FLUSH_INTERVAL = boundedDuration({ min: 100 });
export const idList = parser(
  z
    .string()
    .regex(/^\d+(,\d+)*$/)
    .transform((s) => s.split(',').map(Number)),
  'comma-separated ids such as 12,13',
);
export const nameList = parser(
  z
    .string()
    .regex(/^[^,\s]+(,[^,\s]+)*$/)
    .transform((s) => s.split(',')),
  'a comma-separated list without spaces, such as AAPL,BTC-USD',
);
