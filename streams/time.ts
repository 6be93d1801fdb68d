// Event times as the transform reads them. Two rules keep a record's classification a function of
// its bytes and the stream's rules alone, on any machine and in any year:
// - a timestamp names its instant by itself: ISO-8601 (the RFC 3339 profile) with `Z` or ±hh:mm.
//   One without an offset is invalid; it is never read in the worker's local time zone.
// - "in the future" and "too far in the past" are judged against the record's reference time (the
//   archive time of its bronze object, see ValidationContext), never against the wall clock.
import { z } from 'zod';

const withOffset = z.iso.datetime({ offset: true });
const withOrWithoutOffset = z.iso.datetime({ offset: true, local: true });

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** 86400000 -> "1 day", 7200000 -> "2 hours": bounds as a person reads them in a quarantine reason. */
export function spanText(ms: number): string {
  if (ms % DAY_MS === 0) return `${ms / DAY_MS} day${ms === DAY_MS ? '' : 's'}`;
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS} hour${ms === HOUR_MS ? '' : 's'}`;
  return `${ms} ms`;
}

/** A string field holding an instant: parsed to a Date only when it carries its offset. */
export function isoTimestamp(field: string) {
  return z
    .string()
    .superRefine((s, ctx) => {
      if (withOffset.safeParse(s).success) return;
      ctx.addIssue({
        code: 'custom',
        message: withOrWithoutOffset.safeParse(s).success
          ? `${field} has no UTC offset: write Z or ±hh:mm, e.g. 2026-11-22T13:05:00Z (a time without one is not read in any local time zone)`
          : `${field} is not an ISO-8601 timestamp with an offset, e.g. 2026-11-22T13:05:00Z`,
      });
    })
    .transform((s) => new Date(Date.parse(s)));
}

/** How far an event time may lie from its record's reference time. */
export interface EventTimeBounds {
  past: number;
  future: number;
}

export interface TimeIssue {
  path: string;
  message: string;
}

/** Why `eventMs` is implausible for a record whose reference time is `referenceTimeMs`; undefined when it is not. */
export function eventTimeIssue(field: string, eventMs: number, referenceTimeMs: number, bounds: EventTimeBounds): TimeIssue | undefined {
  const reference = new Date(referenceTimeMs).toISOString();
  if (eventMs > referenceTimeMs + bounds.future) {
    return {
      path: field,
      message: `${field} is in the future: more than ${spanText(bounds.future)} after the record was archived (${reference})`,
    };
  }
  if (eventMs < referenceTimeMs - bounds.past) {
    return {
      path: field,
      message: `${field} is too far in the past: more than ${spanText(bounds.past)} before the record was archived (${reference})`,
    };
  }
  return undefined;
}
